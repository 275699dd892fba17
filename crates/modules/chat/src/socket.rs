//! One WebSocket connection: JSON frames in both directions, every frame authorized against
//! the conversation it names, a frame budget, heartbeats, and the token checked again at each
//! one: the connection ends when it expires or is revoked (4001) or when the person's staff
//! roles changed (4003); the client reconnects and resumes. Every write has a time limit, so
//! a client that stops reading cannot hold its connection open.

use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{SinkExt, StreamExt};
use kernel::{Actor, ApiError, ErrorCode, Timestamp};

use crate::api::*;
use crate::domain::{self, FrameBudget};
use crate::service::{rooms_of, Chat, ChatError};

/// Close codes: 1008 (policy) for a flood of refused frames, 4001 when the token expired or
/// was revoked, 4003 when the person's staff roles changed.
const POLICY: u16 = 1008;
const TOKEN_EXPIRED: u16 = 4001;
const ROLES_CHANGED: u16 = 4003;

pub async fn serve(chat: Chat, mut actor: Actor, token: String, socket: WebSocket) {
    let rooms = rooms_of(&actor);
    let (connection, mut inbox) = chat.hub.join(&rooms).await;
    let (mut sink, mut stream) = socket.split();
    let heartbeat = Duration::from_secs(chat.config.heartbeat_secs.max(1));
    let mut ticker = tokio::time::interval(heartbeat);
    ticker.tick().await;
    let expiry = tokio::time::sleep(domain::until_expiry(
        actor.token_expires_at,
        Timestamp::now().seconds(),
    ));
    tokio::pin!(expiry);
    let mut budget = FrameBudget::new(chat.config.frames_per_second, chat.config.frame_burst);
    let mut refusals = 0u32;
    let mut heard = Instant::now();
    let close = |code: u16, reason: &'static str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }))
    };
    let ready = ServerFrame::Ready {
        user_id: actor.user_id,
    };
    let send_limit = heartbeat;
    macro_rules! send {
        ($message:expr) => {
            matches!(
                tokio::time::timeout(send_limit, sink.send($message)).await,
                Ok(Ok(()))
            )
        };
    }
    if !send!(text(&ready)) {
        chat.hub.leave(connection, &rooms).await;
        return;
    }
    loop {
        tokio::select! {
            frame = inbox.recv() => {
                // None: dropped for lagging behind; the client resumes after reconnecting.
                let Some(frame) = frame else { break };
                if !send!(Message::Text(Utf8Bytes::from(frame.as_ref()))) {
                    break;
                }
            }
            incoming = stream.next() => {
                let Some(Ok(incoming)) = incoming else { break };
                heard = Instant::now();
                let reply = match incoming {
                    Message::Text(body) => {
                        if budget.spend(Instant::now()) {
                            answer(&chat, &actor, body.as_str()).await
                        } else {
                            Some(refusal(ChatCode::SlowDown, "too many frames".into(), None))
                        }
                    }
                    Message::Binary(_) => Some(refusal(ChatCode::BadFrame, "frames are JSON text".into(), None)),
                    Message::Close(_) => break,
                    // Answered by the library, so they count against the budget too.
                    Message::Ping(_) if !budget.spend(Instant::now()) => {
                        Some(refusal(ChatCode::SlowDown, "too many frames".into(), None))
                    }
                    Message::Ping(_) | Message::Pong(_) => None,
                };
                if let Some(reply) = reply {
                    if matches!(reply, ServerFrame::Error { .. }) {
                        refusals += 1;
                    } else {
                        refusals = 0;
                    }
                    if !send!(text(&reply)) {
                        break;
                    }
                    if refusals > chat.config.max_refusals {
                        let _ = send!(close(POLICY, "too many refused frames"));
                        closing_handshake(&mut stream).await;
                        break;
                    }
                }
            }
            _ = ticker.tick() => {
                if heard.elapsed() > heartbeat * 3 {
                    break;
                }
                // Revoked, expired, or no longer staff where it was: frames are authorized
                // with this actor, so it must stay true.
                match chat.ctx.authenticator.authenticate_token(&token).await {
                    Ok(fresh) if same_rooms(&rooms_of(&fresh), &rooms) => actor = fresh,
                    Ok(_) => {
                        let _ = send!(close(ROLES_CHANGED, "staff roles changed"));
                        closing_handshake(&mut stream).await;
                        break;
                    }
                    Err(_) => {
                        let _ = send!(close(TOKEN_EXPIRED, "access token expired or revoked"));
                        closing_handshake(&mut stream).await;
                        break;
                    }
                }
                chat.hub.refresh(&rooms).await;
                if !send!(Message::Ping(Default::default())) {
                    break;
                }
            }
            () = &mut expiry => {
                let _ = send!(close(TOKEN_EXPIRED, "access token expired"));
                closing_handshake(&mut stream).await;
                break;
            }
        }
    }
    chat.hub.leave(connection, &rooms).await;
}

/// After our close frame, reads (and drops) what the client still sends until its close
/// frame, for a second at most: closing with unread data would reset the connection and lose
/// the frames the client has not read yet, our close frame among them.
async fn closing_handshake(stream: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn same_rooms(a: &[crate::hub::Room], b: &[crate::hub::Room]) -> bool {
    a.len() == b.len() && a.iter().all(|room| b.contains(room))
}

fn text(frame: &ServerFrame) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(frame).unwrap_or_default(),
    ))
}

fn refusal(code: ChatCode, detail: String, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code: code.as_str().to_owned(),
        detail,
        client_id,
    }
}

fn failure(err: ChatError, client_id: Option<String>) -> ServerFrame {
    let problem = ApiError::from(err);
    ServerFrame::Error {
        code: problem.code.to_owned(),
        detail: problem.detail,
        client_id,
    }
}

/// The answer to one client frame, if it has one.
async fn answer(chat: &Chat, actor: &Actor, body: &str) -> Option<ServerFrame> {
    let frame: ClientFrame = match serde_json::from_str(body) {
        Ok(frame) => frame,
        Err(err) => return Some(refusal(ChatCode::BadFrame, err.to_string(), None)),
    };
    Some(match frame {
        ClientFrame::Send {
            conversation_id,
            client_id,
            text,
            media_id,
        } => {
            let input = PostMessage {
                client_id: Some(client_id.clone()),
                text,
                media_id,
            };
            match chat.post(actor, conversation_id, input).await {
                Ok((message, _)) => ServerFrame::Ack { client_id, message },
                Err(err) => failure(err, Some(client_id)),
            }
        }
        ClientFrame::Typing { conversation_id } => {
            return chat
                .typing(actor, conversation_id)
                .await
                .err()
                .map(|e| failure(e, None))
        }
        ClientFrame::Delivered {
            conversation_id,
            seq,
        } => match chat.mark(actor, conversation_id, seq, false).await {
            // Both sides get the receipt through the hub.
            Ok(_) => return None,
            Err(err) => failure(err, None),
        },
        ClientFrame::Read {
            conversation_id,
            seq,
        } => match chat.mark(actor, conversation_id, seq, true).await {
            Ok(_) => return None,
            Err(err) => failure(err, None),
        },
        ClientFrame::Resume {
            conversation_id,
            after_seq,
        } => match chat.after(actor, conversation_id, after_seq).await {
            Ok((messages, more)) => ServerFrame::History {
                conversation_id,
                messages,
                more,
            },
            Err(err) => failure(err, None),
        },
        ClientFrame::Presence { conversation_id } => {
            match chat.presence(actor, conversation_id).await {
                Ok(online) => ServerFrame::Presence {
                    conversation_id,
                    online,
                },
                Err(err) => failure(err, None),
            }
        }
        ClientFrame::Ping => ServerFrame::Pong,
    })
}
