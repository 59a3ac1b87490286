//! A webhook receiver for tests (svix's `TestReceiver`): an HTTP server on 127.0.0.1 that records every
//! request and answers by path: `/ok`, `/slow` (100 ms), `/flaky` (500 while `flaky_failures` counts down),
//! `/fail` (always 500), `/hang` (60 s), `/redirect` (307 to `/ok`), `/retry-after` (503, `Retry-After: 3`),
//! `/huge` (100 MiB streamed); anything else is a 404.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
pub struct ReceiverState {
    pub requests: Mutex<Vec<Received>>,
    /// `/flaky` answers 500 while this is above zero (counting down).
    pub flaky_failures: AtomicUsize,
}

pub struct Receiver {
    pub base: String,
    pub state: Arc<ReceiverState>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let state = Arc::new(ReceiverState::default());
        let app = axum::Router::new()
            .fallback(receive)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            base: format!("http://{addr}"),
            state,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn at(&self, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    state.requests.lock().unwrap().push(Received {
        path: path.clone(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    match path.as_str() {
        "/ok" => (StatusCode::OK, "thanks").into_response(),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(100)).await;
            (StatusCode::OK, "slow thanks").into_response()
        }
        "/flaky" => {
            let failing = state
                .flaky_failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                (StatusCode::INTERNAL_SERVER_ERROR, "not yet").into_response()
            } else {
                (StatusCode::OK, "finally").into_response()
            }
        }
        "/fail" => (StatusCode::INTERNAL_SERVER_ERROR, "always failing").into_response(),
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            (StatusCode::OK, "too late").into_response()
        }
        "/redirect" => (
            StatusCode::TEMPORARY_REDIRECT,
            [("location", "/ok")],
            "elsewhere",
        )
            .into_response(),
        "/retry-after" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "3")],
            "busy",
        )
            .into_response(),
        "/huge" => {
            // 100 MiB, streamed: the worker must read a little and hang up.
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let stream = futures::stream::iter(
                (0..1600).map(move |_| Ok::<_, std::convert::Infallible>(chunk.clone())),
            );
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }
        _ => (StatusCode::NOT_FOUND, "no such hook").into_response(),
    }
}
