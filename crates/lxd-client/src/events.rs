//! The events websocket (`GET /1.0/events?type=...`) yielding [`lxd_api::Event`]s.

use futures_util::StreamExt;
use lxd_api::Event;
use tokio_tungstenite::tungstenite::Message;

use crate::websocket::DaemonSocket;
use crate::{Client, ClientError, Result};

/// A connected events listener.
pub struct EventListener {
    socket: DaemonSocket,
}

impl EventListener {
    /// The next event as raw JSON text; `None` when the daemon closed the socket.
    pub async fn next_raw(&mut self) -> Result<Option<String>> {
        while let Some(msg) = self.socket.next().await {
            match msg.map_err(|e| ClientError::Websocket(e.to_string()))? {
                Message::Text(t) => return Ok(Some(t.to_string())),
                Message::Binary(b) => return Ok(Some(String::from_utf8_lossy(&b).into_owned())),
                Message::Close(_) => return Ok(None),
                _ => continue,
            }
        }
        Ok(None)
    }

    /// The next decoded event; `None` when the socket closed.
    pub async fn next_event(&mut self) -> Result<Option<Event>> {
        match self.next_raw().await? {
            Some(text) => Ok(Some(serde_json::from_str(&text)?)),
            None => Ok(None),
        }
    }
}

impl Client {
    /// Listens to events of the given types (empty = all), optionally across all projects.
    pub async fn get_events(&self, types: &[String], all_projects: bool) -> Result<EventListener> {
        let mut path = "/1.0/events".to_string();
        let mut params = Vec::new();
        if !types.is_empty() {
            params.push(format!("type={}", types.join(",")));
        }
        if all_projects {
            params.push("all-projects=true".to_string());
        }
        if !params.is_empty() {
            path = format!("{path}?{}", params.join("&"));
        }
        let path = if all_projects {
            path
        } else {
            self.url_with_project(&path)
        };
        let socket = self.connect_websocket(&path).await?;
        Ok(EventListener { socket })
    }
}
