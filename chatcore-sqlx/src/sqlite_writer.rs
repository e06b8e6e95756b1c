//! Group commit for SQLite's hot writes.
//!
//! A commit on SQLite costs ~100 µs on its own (the WAL frames written for
//! the table and index pages; measured on the benchmark machine with
//! Python's sqlite3 as well: ~130 µs per autocommit INSERT, ~35 µs inside a
//! transaction), and SQLite has one writer. Under load, the reply path's
//! writes — each turn's messages, every streaming flush and every final
//! reply — therefore queue for the writer one commit at a time.
//!
//! [`GroupCommit`] is a task that takes those writes from a queue and, when
//! several are waiting, runs them in one `BEGIN IMMEDIATE … COMMIT` on the
//! writer connection: one commit for the whole batch. A write that is alone
//! runs as before, in its own autocommit statement. Every write here is a
//! single statement, so a constraint violation (duplicate id, unknown
//! session) undoes that statement only and the batch goes on; any other
//! failure rolls the whole batch back and every write of it gets the error,
//! so a write is reported stored exactly when it was committed.

use chatcore::{ChatMessage, ConflictKind, MessageId, MessageUpdate, StoreError};
use sqlx::sqlite::SqlitePool;
use sqlx::SqliteConnection;
use tokio::sync::{mpsc, oneshot};

use crate::error::{backend, is_foreign_key_violation, is_unique_violation, Error};
use crate::sqlite_rows::{exec_append, exec_update};

/// Most writes committed together.
const MAX_BATCH: usize = 256;

/// One queued write and where its result goes.
enum Job {
    Append {
        messages: Vec<ChatMessage>,
        done: oneshot::Sender<Result<Vec<ChatMessage>, StoreError>>,
    },
    Update {
        id: MessageId,
        update: MessageUpdate,
        done: oneshot::Sender<Result<ChatMessage, StoreError>>,
    },
}

/// What a job's statement did (not yet committed inside a batch).
enum Outcome {
    Appended,
    Updated(ChatMessage),
    /// A statement-level failure: a transaction goes on without it.
    Refused(StoreError),
}

impl Job {
    async fn run(&self, conn: &mut SqliteConnection) -> Result<Outcome, sqlx::Error> {
        let result = match self {
            Job::Append { messages, .. } => exec_append(conn, messages)
                .await
                .map(|()| Outcome::Appended),
            Job::Update { id, update, .. } => {
                exec_update(conn, *id, update)
                    .await
                    .map(|found| match found {
                        Some(message) => Outcome::Updated(message),
                        None => Outcome::Refused(StoreError::NotFound),
                    })
            }
        };
        match result {
            Err(e) if is_unique_violation(&e) => {
                Ok(Outcome::Refused(StoreError::Conflict(ConflictKind::Id)))
            }
            Err(e) if is_foreign_key_violation(&e) => Ok(Outcome::Refused(StoreError::NotFound)),
            other => other,
        }
    }

    /// Answers the job: its outcome once committed, or why nothing was stored.
    fn reply(self, outcome: Result<Outcome, StoreError>) {
        let unexpected = || StoreError::from(Error::Batch("unexpected outcome".to_owned()));
        match self {
            Job::Append { messages, done } => {
                let _ = done.send(match outcome {
                    Ok(Outcome::Appended) => Ok(messages),
                    Ok(Outcome::Refused(error)) | Err(error) => Err(error),
                    Ok(Outcome::Updated(_)) => Err(unexpected()),
                });
            }
            Job::Update { done, .. } => {
                let _ = done.send(match outcome {
                    Ok(Outcome::Updated(message)) => Ok(message),
                    Ok(Outcome::Refused(error)) | Err(error) => Err(error),
                    Ok(Outcome::Appended) => Err(unexpected()),
                });
            }
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Job::Append { .. } => "Append",
            Job::Update { .. } => "Update",
        })
    }
}

/// The queue of the hot writes, and the task that commits them in batches.
#[derive(Clone, Debug)]
pub(crate) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

fn writer_gone() -> StoreError {
    StoreError::from(Error::Batch("the SQLite writer task has ended".to_owned()))
}

impl GroupCommit {
    /// Starts the committing task on the current tokio runtime (`None`
    /// outside one); the task ends with the last clone of the handle.
    pub(crate) fn start(writer: SqlitePool) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let (jobs, queue) = mpsc::unbounded_channel();
        runtime.spawn(run(writer, queue));
        Some(GroupCommit { jobs })
    }

    /// Whether the task still runs (it ends with its runtime).
    pub(crate) fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }

    /// Appends messages (one statement), possibly committed with others.
    pub(crate) async fn append(
        &self,
        messages: Vec<ChatMessage>,
    ) -> Result<Vec<ChatMessage>, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job::Append { messages, done })
            .map_err(|_| writer_gone())?;
        result.await.map_err(|_| writer_gone())?
    }

    /// Rewrites a message (one statement), possibly committed with others.
    pub(crate) async fn update(
        &self,
        id: MessageId,
        update: MessageUpdate,
    ) -> Result<ChatMessage, StoreError> {
        let (done, result) = oneshot::channel();
        self.jobs
            .send(Job::Update { id, update, done })
            .map_err(|_| writer_gone())?;
        result.await.map_err(|_| writer_gone())?
    }
}

async fn run(writer: SqlitePool, mut queue: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(&writer, batch).await;
    }
}

/// Runs `batch` and answers every job: alone in autocommit, else in one
/// transaction.
async fn commit(writer: &SqlitePool, batch: Vec<Job>) {
    let fail_all = |batch: Vec<Job>, error: sqlx::Error| {
        let message = error.to_string();
        for job in batch {
            job.reply(Err(StoreError::from(Error::Batch(message.clone()))));
        }
    };
    let mut conn = match writer.acquire().await {
        Ok(conn) => conn,
        Err(error) => return fail_all(batch, error),
    };
    if batch.len() == 1 {
        for job in batch {
            match job.run(&mut conn).await {
                Ok(outcome) => job.reply(Ok(outcome)),
                Err(error) => job.reply(Err(backend(error))),
            }
        }
        return;
    }
    let mut tx = match sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await {
        Ok(tx) => tx,
        Err(error) => return fail_all(batch, error),
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in &batch {
        match job.run(&mut tx).await {
            Ok(outcome) => outcomes.push(outcome),
            Err(error) => {
                // Not a statement-level failure: undo the batch, store nothing.
                let _ = tx.rollback().await;
                return fail_all(batch, error);
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
            for (job, outcome) in batch.into_iter().zip(outcomes) {
                job.reply(Ok(outcome));
            }
        }
        Err(error) => fail_all(batch, error),
    }
}
