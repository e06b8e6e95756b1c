//! The two ends of a socket's life: the `auth` frame that must come first,
//! and the close handshake.

use std::time::Duration;

use chatcore::{ServiceError, User, VerifiedToken};
use futures_util::StreamExt;
use rocket_ws::frame::{CloseCode, CloseFrame};
use rocket_ws::result::Error as WsError;
use rocket_ws::stream::DuplexStream;
use rocket_ws::Message;
use tokio::time::{timeout, timeout_at, Instant};

use super::protocol::{parse, ClientFrame};
use crate::error::ApiError;
use crate::state::ApiState;

/// Close code for a missing, invalid or expired token.
pub(crate) const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code for a message over the size limit.
const CLOSE_TOO_BIG: u16 = 1009;
/// Close code when the server shuts down or the peer stopped answering pings.
pub(super) const CLOSE_GOING_AWAY: u16 = 1001;
/// Close code when authentication could not be checked (store down, ...).
const CLOSE_INTERNAL: u16 = 1011;

/// How long the close handshake may take.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How the connection ends.
#[derive(Debug)]
pub(super) enum End {
    /// The client went away or the socket failed: nothing more to send.
    Gone,
    /// Close with this code and reason.
    Close(u16, &'static str),
}

/// Waits for the `auth` frame (API.md: first frame, within `ws_auth_timeout`).
pub(super) async fn authenticate(
    socket: &mut DuplexStream,
    state: &ApiState,
) -> Result<(User, VerifiedToken), End> {
    const NOT_AUTH: End = End::Close(CLOSE_UNAUTHORIZED, "the first frame must be an auth frame");
    let deadline = Instant::now() + state.config.ws_auth_timeout;
    let text = loop {
        let incoming = timeout_at(deadline, socket.next())
            .await
            .map_err(|_| End::Close(CLOSE_UNAUTHORIZED, "authentication timed out"))?;
        match incoming {
            None => return Err(End::Gone),
            Some(Err(error)) => return Err(read_error(error)),
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(Message::Binary(_))) => return Err(NOT_AUTH),
            // Control frames are not "the first frame"; a close ends the stream.
            Some(Ok(_)) => continue,
        }
    };
    let Ok(ClientFrame::Auth { token }) = parse(&text) else {
        return Err(NOT_AUTH);
    };
    match state.auth.authenticate(&token).await {
        Ok(authenticated) => Ok(authenticated),
        Err(ServiceError::Unauthorized(_)) => {
            Err(End::Close(CLOSE_UNAUTHORIZED, "invalid or expired token"))
        }
        Err(error) => {
            let _logged = ApiError::from(error);
            Err(End::Close(CLOSE_INTERNAL, "authentication is unavailable"))
        }
    }
}

/// What a failed read means for the connection.
pub(super) fn read_error(error: WsError) -> End {
    match error {
        WsError::Capacity(_) => End::Close(CLOSE_TOO_BIG, "message too big"),
        error => {
            tracing::debug!(%error, "websocket read failed");
            End::Gone
        }
    }
}

/// Sends a close frame and lets the client finish the handshake.
pub(super) async fn close(socket: &mut DuplexStream, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: reason.into(),
    };
    if let Ok(Ok(())) = timeout(CLOSE_TIMEOUT, socket.close(Some(frame))).await {
        let drain = async { while let Some(Ok(_)) = socket.next().await {} };
        let _ = timeout(CLOSE_TIMEOUT, drain).await;
    }
}
