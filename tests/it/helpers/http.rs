//! HTTP for the tests: a reply read whole with its body as JSON, the checks
//! every API reply gets, and throwaway HTTP services (fakes of the services
//! confab calls) on port 0.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A reply read whole: its status, headers, and body as JSON (`null` when
/// empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Reads `res` whole; a body that is not JSON fails the test.
    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Sends `req` and reads the reply.
    pub async fn of(req: reqwest::RequestBuilder) -> Reply {
        Reply::read(req.send().await.expect("request")).await
    }

    /// Asserts the error shape `{"error": {"code", "message"}}` with a
    /// message; returns the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &str {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"]["code"], code, "body: {}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "no message: {}", self.body);
        message
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

/// Serves `app` on 127.0.0.1, port 0, until the test's runtime ends;
/// returns its base URL.
pub async fn spawn_http(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}
