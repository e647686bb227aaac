//! What every listener shares: the core service, the token keys, the config
//! and the upload pipeline.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::core::Service;
use crate::media::Media;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub keys: Arc<JwtKeys>,
    pub config: Arc<Config>,
    /// The upload pipeline, shared by the HTTP routes and the sockets.
    pub media: Arc<Media>,
}
