//! `/1.0/events`: a websocket streaming operation, logging and lifecycle events.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::IntoResponse;
use tokio::sync::broadcast::error::RecvError;

use crate::api::extract::Params;
use crate::api::{ApiError, ApiResponse, ApiResult};
use crate::state::AppState;

const TYPES: &[&str] = &["operation", "logging", "lifecycle"];

/// Which events a listener asked for.
#[derive(Debug, Clone)]
struct Filter {
    types: Vec<String>,
    project: Option<String>,
}

impl Filter {
    fn accepts(&self, event: &lxd_api::Event) -> bool {
        self.types.contains(&event.kind)
            && match &self.project {
                Some(p) => event.project.is_empty() || event.project == *p,
                None => true,
            }
    }
}

/// `GET /1.0/events?type=a,b&project=p|all-projects=true`
pub async fn get_events(
    State(state): State<AppState>,
    params: Params,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult {
    let types: Vec<String> = match params.get("type").filter(|t| !t.is_empty()) {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => TYPES.iter().map(|s| s.to_string()).collect(),
    };
    if let Some(bad) = types.iter().find(|t| !TYPES.contains(&t.as_str())) {
        return Err(ApiError::bad_request(format!(
            "{bad} isn't a supported type"
        )));
    }
    let all = params.get("all-projects") == Some("true");
    super::require_project(&state, params.project())?;
    let filter = Filter {
        types,
        project: (!all).then(|| params.project().to_string()),
    };
    let upgrade = upgrade.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let rx = state.events.subscribe();
    let resp = upgrade.on_upgrade(move |socket| stream(socket, rx, filter));
    Ok(ApiResponse::Raw(resp.into_response()))
}

async fn stream(
    mut socket: WebSocket,
    mut rx: tokio::sync::broadcast::Receiver<std::sync::Arc<lxd_api::Event>>,
    filter: Filter,
) {
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Ok(event) if filter.accepts(&event) => {
                    let text = serde_json::to_string(&*event).unwrap_or_default();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
