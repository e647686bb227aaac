//! What every listener shares: the core service, the token keys and the config.

use std::sync::Arc;

use crate::auth::jwt::JwtKeys;
use crate::config::Config;
use crate::core::Service;

#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub keys: Arc<JwtKeys>,
    pub config: Arc<Config>,
}
