//! The real server (`app::start`) in-process, every dialect on port 0, over
//! a fresh SQLite database in a temporary directory; and the fixtures built
//! through its service.

use confab::app::{self, Running};
use confab::config::Config;
use confab::core::command::Actor;
use confab::core::{ConversationKind, ConversationSummary, RowRef};

use super::fixtures::{self, user_id, user_ids};

pub struct TestServer {
    pub running: Running,
    /// The Dozaar listener, which also serves the REST API and uploads.
    pub url: String,
    pub syarah_url: Option<String>,
    pub jobspare_url: Option<String>,
    pub voxora_url: Option<String>,
    pub vchat_url: Option<String>,
    _dir: tempfile::TempDir,
}

/// The server on the embedded defaults.
pub async fn spawn_server() -> TestServer {
    spawn_server_with(|_| {}).await
}

/// The server on the defaults as `adjust` changes them.
pub async fn spawn_server_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        bind: "127.0.0.1".parse().expect("ip"),
        ..Config::default()
    };
    config.dialects.dozaar.port = 0;
    config.dialects.syarah.port = 0;
    config.dialects.jobspare.port = 0;
    config.dialects.voxora.port = 0;
    config.dialects.vchat.port = 0;
    adjust(&mut config);
    let running = app::start(config).await.expect("server starts");
    let addr = running.addr("dozaar").expect("dozaar listens");
    let url_of = |dialect| running.addr(dialect).map(|a| format!("http://{a}"));
    TestServer {
        url: format!("http://{addr}"),
        syarah_url: url_of("syarah"),
        jobspare_url: url_of("jobspare"),
        voxora_url: url_of("voxora"),
        vchat_url: url_of("vchat"),
        running,
        _dir: dir,
    }
}

impl TestServer {
    /// A token of `user` named "`user` name", valid for an hour.
    pub fn token_for(&self, user: &str) -> String {
        fixtures::token_for(&self.running.state.keys, user)
    }

    /// `user`, provisioned with an empty profile, as the actor of commands.
    pub async fn provisioned_actor(&self, user: &str) -> Actor {
        fixtures::provisioned_actor(&self.running.state.service, user).await
    }

    /// `user`, provisioned with `display_name`, as the actor of commands.
    pub async fn named_actor(&self, user: &str, display_name: &str) -> Actor {
        fixtures::named_actor(&self.running.state.service, user, display_name).await
    }

    /// The direct conversation of `creator` and `other`.
    pub async fn direct_conversation(&self, creator: &str, other: &str) -> ConversationSummary {
        self.create_conversation(creator, ConversationKind::Direct, &[other])
            .await
    }

    /// A group titled "test" that `creator` made with `others`.
    pub async fn group_conversation(&self, creator: &str, others: &[&str]) -> ConversationSummary {
        self.create_conversation(creator, ConversationKind::Group, others)
            .await
    }

    async fn create_conversation(
        &self,
        creator: &str,
        kind: ConversationKind,
        others: &[&str],
    ) -> ConversationSummary {
        let actor = self.provisioned_actor(creator).await;
        self.running
            .state
            .service
            .create_conversation(&actor, kind, user_ids(others), Some("test".into()))
            .await
            .expect("conversation")
            .summary
    }

    /// How many messages of the conversation `user` sees (up to 100).
    pub async fn message_count(&self, user: &str, conversation_id: i64) -> usize {
        let actor = self.provisioned_actor(user).await;
        self.running
            .state
            .service
            .history(&actor, RowRef::Id(conversation_id), None, None, Some(100))
            .await
            .expect("history")
            .0
            .len()
    }

    /// Whether a socket of `user` on this node views the conversation.
    pub fn is_viewing(&self, user: &str, conversation_id: i64) -> bool {
        self.running
            .state
            .service
            .viewing()
            .is_viewing_here(&user_id(user), conversation_id)
    }
}
