//! The task behind one `/ws` socket: authentication, then one loop that
//! multiplexes the client's frames, the replies the socket follows, the
//! user's event bus, the token-expiry timers and the keep-alive.

use std::future::pending;
use std::time::Duration;

use chatcore::messenger::SendMessage;
use chatcore::{
    ConversationId, ReplyEvent, SessionId, User, UserEvent, UserEventStream, VerifiedToken,
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use rocket::Shutdown;
use rocket_ws::result::Error as WsError;
use rocket_ws::stream::DuplexStream;
use rocket_ws::Message;
use tokio::time::{sleep_until, timeout, Instant};

use super::follows::{FollowMeta, Follows, Suppressed};
use super::handshake::{
    authenticate, close, read_error, End, CLOSE_GOING_AWAY, CLOSE_UNAUTHORIZED,
};
use super::own_sends::{BusCopy, OwnSends, Pending};
use super::protocol::{parse, ClientFrame, ErrorFrame, RequestId, ServerFrame};
use crate::dto::ConversationDto;
use crate::state::ApiState;

/// How many replies one socket may follow at once (its sends and subscribes).
pub(crate) const MAX_FOLLOWED: usize = 32;
/// A frame the client does not take within this time ends the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Keep-alive pings left unanswered before the socket is given up.
const MAX_UNANSWERED_PINGS: u32 = 2;
/// Timers further away than this are capped (no `Instant` overflow).
const MAX_TIMER: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

type Flow = Result<(), End>;

/// Serves one upgraded socket until it ends. Never panics.
pub(crate) async fn run(mut socket: DuplexStream, state: ApiState, shutdown: Shutdown) {
    let end = match authenticate(&mut socket, &state).await {
        Ok((user, token)) => {
            let bus = state.chat.events().subscribe(user.id).await;
            let mut connection = Connection::new(socket, state, user, token, bus);
            let end = connection.serve(shutdown).await;
            socket = connection.socket;
            end
        }
        Err(end) => end,
    };
    if let End::Close(code, reason) = end {
        close(&mut socket, code, reason).await;
    }
}

/// Converts a wall-clock deadline to a timer deadline.
fn instant_at(time: DateTime<Utc>) -> Instant {
    let left = (time - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    Instant::now() + left.min(MAX_TIMER)
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => pending().await,
    }
}

/// The next bus event; forever pending once the bus is gone.
async fn next_event(bus: &mut Option<UserEventStream>) -> Option<UserEvent> {
    match bus {
        Some(bus) => bus.next().await,
        None => pending().await,
    }
}

/// One authenticated socket.
struct Connection {
    socket: DuplexStream,
    state: ApiState,
    user: User,
    /// When the token expires (the socket closes with 4401).
    expiry: Instant,
    /// When to send `token_expiring`; `None` once sent.
    notice: Option<Instant>,
    expires_at: DateTime<Utc>,
    bus: Option<UserEventStream>,
    follows: Follows,
    suppressed: Suppressed,
    own_sends: OwnSends,
    last_sent: Instant,
    last_received: Instant,
    last_ping: Option<Instant>,
    unanswered_pings: u32,
}

impl Connection {
    fn new(
        socket: DuplexStream,
        state: ApiState,
        user: User,
        token: VerifiedToken,
        bus: UserEventStream,
    ) -> Self {
        let now = Instant::now();
        let mut connection = Connection {
            socket,
            state,
            user,
            expiry: now,
            notice: None,
            expires_at: token.expires_at,
            bus: Some(bus),
            follows: Follows::default(),
            suppressed: Suppressed::default(),
            own_sends: OwnSends::default(),
            last_sent: now,
            last_received: now,
            last_ping: None,
            unanswered_pings: 0,
        };
        connection.set_expiry(token.expires_at);
        connection
    }

    /// Starts the expiry timers of a (new) token.
    fn set_expiry(&mut self, expires_at: DateTime<Utc>) {
        self.expires_at = expires_at;
        self.expiry = instant_at(expires_at);
        let notice = self.state.config.token_expiry_notice;
        self.notice = Some(
            self.expiry
                .checked_sub(notice)
                .unwrap_or_else(Instant::now)
                .max(Instant::now()),
        );
    }

    async fn serve(&mut self, shutdown: Shutdown) -> End {
        tokio::pin!(shutdown);
        let ready = ServerFrame::ready(&self.user, self.expires_at, &self.state);
        if let Err(end) = self.send(&ready).await {
            return end;
        }
        loop {
            let ping_at = self.last_sent + self.state.config.keepalive;
            let flow = tokio::select! {
                incoming = self.socket.next() => self.on_incoming(incoming).await,
                (meta, event) = self.follows.next() => self.on_reply(meta, event).await,
                event = next_event(&mut self.bus) => self.on_bus(event).await,
                () = sleep_until_some(self.own_sends.next_deadline()) => self.on_own_sends_late().await,
                () = sleep_until_some(self.notice) => self.on_notice().await,
                () = sleep_until(self.expiry) => Err(End::Close(CLOSE_UNAUTHORIZED, "token expired")),
                () = sleep_until(ping_at) => self.on_keepalive().await,
                () = &mut shutdown => Err(End::Close(CLOSE_GOING_AWAY, "server shutting down")),
            };
            if let Err(end) = flow {
                tracing::debug!(user_id = %self.user.id, ?end, "websocket ends");
                return end;
            }
        }
    }

    /// Sends one frame; a client that does not take it in time is dropped.
    async fn send(&mut self, frame: &ServerFrame) -> Flow {
        let text = frame.to_json();
        match timeout(SEND_TIMEOUT, self.socket.send(Message::Text(text))).await {
            Ok(Ok(())) => {
                self.last_sent = Instant::now();
                Ok(())
            }
            Ok(Err(error)) => {
                tracing::debug!(%error, "websocket write failed");
                Err(End::Gone)
            }
            Err(_) => {
                tracing::debug!("websocket client too slow; dropped");
                Err(End::Gone)
            }
        }
    }

    async fn send_error(&mut self, frame: ErrorFrame) -> Flow {
        self.send(&ServerFrame::Error(frame)).await
    }

    async fn on_incoming(&mut self, incoming: Option<Result<Message, WsError>>) -> Flow {
        let message = match incoming {
            None => return Err(End::Gone),
            Some(Err(error)) => return Err(read_error(error)),
            Some(Ok(message)) => message,
        };
        self.last_received = Instant::now();
        self.unanswered_pings = 0;
        match message {
            Message::Text(text) => self.on_text(&text).await,
            Message::Binary(_) => {
                let error = ErrorFrame::new(None, "bad_request", "frames must be JSON text");
                self.send_error(error).await
            }
            // Pings are answered by tungstenite; a close is answered there too
            // and the stream then ends.
            _ => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Flow {
        let frame = match parse(text) {
            Ok(frame) => frame,
            Err(error) => return self.send(&error.into_frame()).await,
        };
        match frame {
            ClientFrame::Auth { token } => self.on_reauth(&token).await,
            ClientFrame::Send {
                request_id,
                session_id,
                content,
            } => self.on_send(request_id, session_id, &content).await,
            ClientFrame::Stop {
                request_id,
                session_id,
            } => self.on_stop(request_id, session_id).await,
            ClientFrame::Subscribe {
                request_id,
                session_id,
            } => self.on_subscribe(request_id, session_id).await,
            ClientFrame::Ping { request_id } => self.send(&ServerFrame::Pong { request_id }).await,
            ClientFrame::ConversationSend {
                request_id,
                conversation_id,
                text,
                image_id,
                client_id,
            } => {
                let send = SendMessage {
                    text,
                    image_id,
                    client_id,
                };
                self.on_conversation_send(request_id, conversation_id, send)
                    .await
            }
            ClientFrame::Typing {
                request_id,
                conversation_id,
            } => self.on_typing(request_id, conversation_id).await,
        }
    }

    /// `conversation_send`: stored and published by the messenger; the
    /// answer is the bus copy with the `request_id` attached (see
    /// [`OwnSends`]), or, for an idempotent repeat (nothing published), the
    /// first message sent directly.
    async fn on_conversation_send(
        &mut self,
        request_id: Option<RequestId>,
        conversation_id: ConversationId,
        send: SendMessage,
    ) -> Flow {
        let messenger = match self.state.messenger() {
            Ok(messenger) => messenger.clone(),
            Err(error) => {
                return self
                    .send_error(ErrorFrame::from_api(request_id, error))
                    .await
            }
        };
        let sent = match messenger
            .send_message(self.user.id, conversation_id, send)
            .await
        {
            Ok(sent) => sent,
            Err(error) => {
                return self
                    .send_error(ErrorFrame::from_service(request_id, error))
                    .await
            }
        };
        match request_id {
            Some(request_id) if sent.created => {
                let deadline = Instant::now() + self.state.config.ws_own_message_wait;
                match self.own_sends.expect(sent.message, request_id, deadline) {
                    Some(evicted) => self.answer_directly(evicted).await,
                    None => Ok(()),
                }
            }
            // Published: the bus copy is the (plain) answer.
            None if sent.created => Ok(()),
            request_id => {
                let frame = ServerFrame::conversation_message(request_id, sent.message);
                self.send(&frame).await
            }
        }
    }

    /// Sends the answers whose bus copy did not come in time.
    async fn on_own_sends_late(&mut self) -> Flow {
        for pending in self.own_sends.expired(Instant::now()) {
            tracing::debug!(message_id = %pending.message.id, "bus copy late; answered directly");
            self.answer_directly(pending).await?;
        }
        Ok(())
    }

    async fn answer_directly(&mut self, pending: Pending) -> Flow {
        let frame = ServerFrame::conversation_message(Some(pending.request_id), pending.message);
        self.send(&frame).await
    }

    /// `typing`: relayed to the other members (throttled by the messenger);
    /// nothing is sent back unless it fails.
    async fn on_typing(
        &mut self,
        request_id: Option<RequestId>,
        conversation_id: ConversationId,
    ) -> Flow {
        let result = match self.state.messenger() {
            Ok(messenger) => messenger
                .typing(self.user.id, conversation_id)
                .await
                .map_err(crate::error::ApiError::from),
            Err(error) => Err(error),
        };
        match result {
            Ok(_) => Ok(()),
            Err(error) => {
                self.send_error(ErrorFrame::from_api(request_id, error))
                    .await
            }
        }
    }

    /// `auth` after the first: a fresh token of the same user restarts the
    /// expiry timers and is answered with a new `ready`.
    async fn on_reauth(&mut self, token: &str) -> Flow {
        match self.state.auth.authenticate(token).await {
            Ok((user, verified)) if user.id == self.user.id => {
                self.user = user;
                self.set_expiry(verified.expires_at);
                let ready = ServerFrame::ready(&self.user, self.expires_at, &self.state);
                self.send(&ready).await
            }
            Ok(_) => {
                let error = ErrorFrame::new(
                    None,
                    "forbidden",
                    "the token belongs to another user; open a new socket",
                );
                self.send_error(error).await
            }
            Err(error) => self.send_error(ErrorFrame::from_service(None, error)).await,
        }
    }

    async fn on_send(
        &mut self,
        request_id: Option<RequestId>,
        session_id: SessionId,
        content: &str,
    ) -> Flow {
        if self.follows.len() >= MAX_FOLLOWED {
            return self.send_error(too_many_followed(request_id)).await;
        }
        let started = match self
            .state
            .chat
            .start_reply(self.user.id, session_id, content)
            .await
        {
            Ok(started) => started,
            Err(error) => {
                return self
                    .send_error(ErrorFrame::from_service(request_id, error))
                    .await
            }
        };
        // Registered before the bus is polled again: the bus events of
        // these messages, already published, are dropped on this socket.
        self.suppressed.add(started.user_message.id);
        self.suppressed.add(started.assistant_message.id);
        let meta = FollowMeta {
            message_id: started.assistant_message.id,
            session_id,
            request_id: request_id.clone(),
        };
        self.follows.push(meta, started.events);
        self.send(&ServerFrame::message(
            request_id.clone(),
            &started.user_message,
        ))
        .await?;
        self.send(&ServerFrame::message(
            request_id,
            &started.assistant_message,
        ))
        .await
    }

    async fn on_stop(&mut self, request_id: Option<RequestId>, session_id: SessionId) -> Flow {
        match self.state.chat.stop(self.user.id, session_id).await {
            // The `done` (status `stopped`) reaches followers of the reply;
            // other sockets get the stored message from the bus.
            Ok(_) => Ok(()),
            Err(error) => {
                self.send_error(ErrorFrame::from_service(request_id, error))
                    .await
            }
        }
    }

    async fn on_subscribe(&mut self, request_id: Option<RequestId>, session_id: SessionId) -> Flow {
        let nothing_running = || {
            ErrorFrame::new(
                request_id.clone(),
                "not_found",
                "no reply is running in this session",
            )
        };
        let mut events = match self.state.chat.attach(self.user.id, session_id).await {
            Ok(Some(events)) => events,
            Ok(None) => return self.send_error(nothing_running()).await,
            Err(error) => {
                return self
                    .send_error(ErrorFrame::from_service(request_id, error))
                    .await
            }
        };
        let Some(ReplyEvent::Snapshot { message }) = events.next().await else {
            return self.send_error(nothing_running()).await;
        };
        // A second subscribe to the same reply replaces the first.
        let replaced = self.follows.remove(message.id);
        if !replaced && self.follows.len() >= MAX_FOLLOWED {
            return self.send_error(too_many_followed(request_id)).await;
        }
        self.suppressed.add(message.id);
        let meta = FollowMeta {
            message_id: message.id,
            session_id,
            request_id: request_id.clone(),
        };
        self.follows.push(meta, events);
        let snapshot = ServerFrame::Snapshot {
            request_id,
            session_id,
            message: (&message).into(),
        };
        self.send(&snapshot).await
    }

    async fn on_reply(&mut self, meta: FollowMeta, event: ReplyEvent) -> Flow {
        let FollowMeta {
            session_id,
            request_id,
            ..
        } = meta;
        let frame = match event {
            ReplyEvent::Snapshot { message } => ServerFrame::Snapshot {
                request_id,
                session_id,
                message: (&message).into(),
            },
            ReplyEvent::Delta { message_id, text } => ServerFrame::Delta {
                request_id,
                session_id,
                message_id,
                text,
            },
            ReplyEvent::Done { message, provider } => ServerFrame::Done {
                request_id,
                session_id,
                message: (&message).into(),
                provider,
            },
            ReplyEvent::Error {
                code,
                message,
                message_id,
                stored,
            } => {
                // The stored state (status `error`, partial text) first: the
                // bus copy of it is dropped on this socket.
                self.send(&ServerFrame::message(request_id.clone(), &stored))
                    .await?;
                ServerFrame::Error(ErrorFrame {
                    session_id: Some(session_id),
                    message_id: Some(message_id),
                    ..ErrorFrame::new(request_id, code, message)
                })
            }
            _ => return Ok(()),
        };
        self.send(&frame).await
    }

    async fn on_bus(&mut self, event: Option<UserEvent>) -> Flow {
        let frame = match event {
            None => {
                tracing::warn!(user_id = %self.user.id, "event bus subscription ended");
                self.bus = None;
                return Ok(());
            }
            Some(UserEvent::Message { message }) => {
                if self.suppressed.drops(&message) {
                    return Ok(());
                }
                ServerFrame::message(None, &message)
            }
            Some(UserEvent::SessionUpdated { session }) => ServerFrame::session_updated(&session),
            Some(UserEvent::SessionDeleted { session_id }) => {
                ServerFrame::SessionDeleted { session_id }
            }
            Some(UserEvent::ConversationMessage { message }) => {
                match self.own_sends.on_bus(message.id) {
                    BusCopy::Answers(request_id) => {
                        ServerFrame::conversation_message(Some(request_id), message)
                    }
                    BusCopy::Plain => ServerFrame::conversation_message(None, message),
                    BusCopy::Drop => return Ok(()),
                }
            }
            Some(UserEvent::ConversationUpdated { conversation_id }) => {
                match self.conversation_updated(conversation_id).await {
                    Some(frame) => frame,
                    None => return Ok(()),
                }
            }
            Some(UserEvent::Read {
                conversation_id,
                user_id,
                seq,
            }) => ServerFrame::Read {
                conversation_id,
                user_id,
                seq,
            },
            Some(UserEvent::Typing {
                conversation_id,
                user_id,
            }) => ServerFrame::Typing {
                conversation_id,
                user_id,
            },
            Some(_) => return Ok(()),
        };
        self.send(&frame).await
    }

    /// The `conversation_updated` frame of a changed conversation, read as
    /// this socket's user (unread count and read pointer are theirs).
    /// Nothing when they may not see it (they left, or were never a
    /// member), or when it cannot be read.
    async fn conversation_updated(&mut self, id: ConversationId) -> Option<ServerFrame> {
        let messenger = self.state.messenger.as_ref()?;
        match messenger.conversation(self.user.id, id).await {
            Ok(conversation) => Some(ServerFrame::ConversationUpdated {
                conversation: ConversationDto::new(conversation, &self.state),
            }),
            Err(chatcore::ServiceError::NotFound(_)) => None,
            Err(error) => {
                let _logged = crate::error::ApiError::from(error);
                None
            }
        }
    }

    async fn on_notice(&mut self) -> Flow {
        self.notice = None;
        let frame = ServerFrame::TokenExpiring {
            expires_at: self.expires_at,
        };
        self.send(&frame).await
    }

    /// Idle for `keepalive`: a WebSocket ping. A client that answered none
    /// of the last pings (nor sent anything) is given up.
    async fn on_keepalive(&mut self) -> Flow {
        if self
            .last_ping
            .is_some_and(|pinged| self.last_received < pinged)
        {
            self.unanswered_pings += 1;
            if self.unanswered_pings >= MAX_UNANSWERED_PINGS {
                return Err(End::Close(CLOSE_GOING_AWAY, "keep-alive timeout"));
            }
        }
        match timeout(SEND_TIMEOUT, self.socket.send(Message::Ping(Vec::new()))).await {
            Ok(Ok(())) => {
                let now = Instant::now();
                self.last_sent = now;
                self.last_ping = Some(now);
                Ok(())
            }
            _ => Err(End::Gone),
        }
    }
}

fn too_many_followed(request_id: Option<RequestId>) -> ErrorFrame {
    ErrorFrame::new(
        request_id,
        "rate_limited",
        format!("this socket already follows {MAX_FOLLOWED} replies"),
    )
}
