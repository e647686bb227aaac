//! Uploaded media: receive a file, find out what it really is, transcode
//! images, store it under a generated name.
//!
//! The pipeline ([`Media`]):
//! 1. [`Media::receive`] streams the upload into a temporary file in
//!    `<uploads dir>/.tmp` (never whole in memory), counting bytes as they
//!    arrive and giving up past the limit ([`MediaError::TooLarge`], 413).
//!    The temporary file is deleted on every failure path.
//! 2. [`Media::store`] checks the size against the declared kind's limit,
//!    sniffs the format from the first bytes ([`sniff`]) and checks it
//!    against the kind ([`sniff::accept`]): an image must be an image, audio
//!    and video one of Syarah's formats, a file may be anything. The name,
//!    extension and declared `Content-Type` are never used.
//! 3. Images are decoded with limits, oriented, fitted within
//!    `image_max_side` and re-encoded as lossy WebP ([`image`]) on the
//!    blocking pool, at most one decode per CPU at a time. Other files are
//!    stored as received, with the extension of their sniffed format.
//! 4. The file is moved into [`storage`] under a fresh key
//!    `chat-messages/<images|audio|videos|files>/<uuid>.<ext>`; its public
//!    path is `/uploads/<key>`.
//!
//! Recording who uploaded what (`Service::record_upload`) is the HTTP
//! layer's job, after `store` succeeds.

pub mod image;
pub mod sniff;
pub mod storage;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::StatusCode;
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use self::image::{ImageError, ImageOptions};
use self::sniff::{Format, Rejected};
use self::storage::{Key, LocalDisk, Object, Storage, StorageError};
use crate::config::{Config, UploadsConfig};
use crate::core::{CoreError, MessageKind, Service, Upload, UserId, now_millis};

/// Folder (below the uploads root) of uploads in progress.
pub const TMP_DIR: &str = ".tmp";
/// Temporary files older than this are removed when [`Media`] starts (left
/// behind by a crash).
pub const STALE_TMP: Duration = Duration::from_secs(3600);
/// URL prefix of stored files.
pub const URL_PREFIX: &str = "/uploads/";

/// Everything the upload pipeline can fail with.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// More bytes than the kind (or, before the kind is known, any kind)
    /// allows.
    #[error("the file is larger than the {limit} bytes allowed{}", for_kind(*.kind))]
    TooLarge {
        limit: u64,
        kind: Option<MessageKind>,
    },
    #[error("the file is empty")]
    Empty,
    /// The bytes do not match the declared kind.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    #[error(transparent)]
    Image(#[from] ImageError),
    /// The request body broke off or was malformed (`too_large`: it passed
    /// the HTTP body limit).
    #[error("{message}")]
    Body { too_large: bool, message: String },
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("temporary upload file: {0}")]
    Io(#[from] io::Error),
    /// The image task panicked or was cancelled.
    #[error("image processing failed: {0}")]
    Task(String),
}

fn for_kind(kind: Option<MessageKind>) -> String {
    kind.map(|k| format!(" for {} uploads", k.as_str()))
        .unwrap_or_default()
}

impl MediaError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            MediaError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MediaError::Body {
                too_large: true, ..
            } => StatusCode::PAYLOAD_TOO_LARGE,
            MediaError::Empty | MediaError::Body { .. } => StatusCode::BAD_REQUEST,
            MediaError::Rejected(Rejected::UnsupportedImage(_))
            | MediaError::Image(ImageError::Unsupported(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MediaError::Rejected(_) => StatusCode::BAD_REQUEST,
            MediaError::Image(e) if e.is_client_error() => StatusCode::BAD_REQUEST,
            MediaError::Image(_)
            | MediaError::Storage(_)
            | MediaError::Io(_)
            | MediaError::Task(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to the client: server-side details stay in the log.
    pub fn public_message(&self) -> String {
        if self.status().is_server_error() {
            "internal error".to_owned()
        } else {
            self.to_string()
        }
    }
}

/// An upload received into a temporary file, not yet checked.
#[derive(Debug)]
pub struct Received {
    path: TempPath,
    size: u64,
}

impl Received {
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: Key,
    pub kind: MessageKind,
    /// The stored format (WebP for every image).
    pub format: Format,
    /// Stored size in bytes.
    pub size: u64,
    /// Of a stored image, in pixels (as stored, after any downscaling).
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl Stored {
    /// The server path clients put in messages: `/uploads/<key>`.
    pub fn path(&self) -> String {
        format!("{URL_PREFIX}{}", self.key)
    }

    pub fn content_type(&self) -> &'static str {
        self.format.mime()
    }
}

/// The media type a stored key is served with, from the extension the
/// server gave it (the sniffed format's).
pub fn content_type_of(key: &Key) -> &'static str {
    key.ext()
        .and_then(Format::from_ext)
        .map_or("application/octet-stream", Format::mime)
}

/// Why keeping an upload failed: the pipeline refused it, or the core did
/// not record it.
#[derive(Debug, thiserror::Error)]
pub enum KeepError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<KeepError> for CoreError {
    /// For clients that are not HTTP (a socket's binary upload).
    fn from(e: KeepError) -> Self {
        match e {
            KeepError::Core(e) => e,
            KeepError::Media(e) if e.status().is_server_error() => {
                CoreError::Internal(e.to_string())
            }
            KeepError::Media(e) => CoreError::Invalid(e.public_message()),
        }
    }
}

/// The kind a file is stored as when no kind was declared: what its bytes
/// are (an image confab can decode, audio, video), else a file.
pub fn kind_of(head: &[u8]) -> MessageKind {
    let format = sniff::sniff(head);
    let kind = match format.class() {
        sniff::Class::Image => MessageKind::Image,
        sniff::Class::Audio => MessageKind::Audio,
        sniff::Class::Video => MessageKind::Video,
        sniff::Class::Other => MessageKind::File,
    };
    if sniff::accept(kind, format).is_ok() {
        kind
    } else {
        MessageKind::File
    }
}

/// The upload pipeline and the storage behind it.
pub struct Media {
    storage: Arc<dyn Storage>,
    tmp_dir: PathBuf,
    config: UploadsConfig,
    decodes: Semaphore,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("tmp_dir", &self.tmp_dir)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Media {
    /// Local-disk storage in the configured uploads folder. Removes stale
    /// temporary files if the folder exists; folders are created on the
    /// first upload (building a router touches nothing else on disk).
    pub fn new(config: &Config) -> Media {
        let root = config.uploads_dir();
        let tmp_dir = root.join(TMP_DIR);
        remove_stale(&tmp_dir, STALE_TMP);
        Media::with_storage(Arc::new(LocalDisk::new(root)), tmp_dir, &config.uploads)
    }

    /// Any storage; temporary files go to `tmp_dir` (for [`LocalDisk`] it
    /// must be on the same file system as the root).
    pub fn with_storage(
        storage: Arc<dyn Storage>,
        tmp_dir: PathBuf,
        config: &UploadsConfig,
    ) -> Media {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Media {
            storage,
            tmp_dir,
            config: config.clone(),
            decodes: Semaphore::new(cpus),
        }
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The size limit of a kind's uploads.
    pub fn limit(&self, kind: MessageKind) -> u64 {
        let c = &self.config;
        match kind {
            MessageKind::Image => c.max_image_bytes,
            MessageKind::Audio => c.max_audio_bytes,
            MessageKind::Video => c.max_video_bytes,
            MessageKind::File | MessageKind::Text => c.max_file_bytes,
        }
    }

    /// The largest limit of any kind (used while the kind is not known yet).
    pub fn largest_limit(&self) -> u64 {
        let c = &self.config;
        c.max_image_bytes
            .max(c.max_audio_bytes)
            .max(c.max_video_bytes)
            .max(c.max_file_bytes)
    }

    fn image_options(&self) -> ImageOptions {
        ImageOptions {
            max_side: self.config.image_max_side,
            max_pixels: self.config.image_max_pixels,
            quality: f32::from(self.config.webp_quality),
        }
    }

    fn temp_file(&self) -> io::Result<(std::fs::File, TempPath)> {
        let make = || {
            tempfile::Builder::new()
                .prefix("upload-")
                .suffix(".part")
                .tempfile_in(&self.tmp_dir)
        };
        let file = match make() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.tmp_dir)?;
                make()?
            }
            other => other?,
        };
        Ok(file.into_parts())
    }

    /// Streams `body` into a temporary file, refusing more than `limit`
    /// bytes ([`MediaError::TooLarge`] with `kind`, the kind the limit is
    /// for, if known). Nothing is left on disk when this fails.
    pub async fn receive<S>(
        &self,
        body: S,
        limit: u64,
        kind: Option<MessageKind>,
    ) -> Result<Received, MediaError>
    where
        S: Stream<Item = Result<Bytes, MediaError>>,
    {
        let (file, path) = self.temp_file()?;
        let mut file = tokio::fs::File::from_std(file);
        let mut size = 0u64;
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size = size.saturating_add(chunk.len() as u64);
            if size > limit {
                return Err(MediaError::TooLarge { limit, kind });
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        drop(file);
        Ok(Received { path, size })
    }

    /// Checks a received file against the declared kind, transcodes images
    /// and stores it under a new key. The temporary file is consumed.
    pub async fn store(&self, received: Received, kind: MessageKind) -> Result<Stored, MediaError> {
        if kind == MessageKind::Text {
            return Err(Rejected::NotAnUploadKind.into());
        }
        let limit = self.limit(kind);
        if received.size > limit {
            return Err(MediaError::TooLarge {
                limit,
                kind: Some(kind),
            });
        }
        if received.size == 0 {
            return Err(MediaError::Empty);
        }
        let head = read_head(&received.path).await?;
        let format = sniff::accept(kind, sniff::sniff(&head))?;
        if kind != MessageKind::Image {
            let key = Key::generate(kind, format.ext());
            let size = self.storage.put(&key, received.path).await?;
            return Ok(Stored {
                key,
                kind,
                format,
                size,
                width: None,
                height: None,
            });
        }

        let webp = {
            let _permit = self
                .decodes
                .acquire()
                .await
                .map_err(|e| MediaError::Task(e.to_string()))?;
            let opts = self.image_options();
            let src = received.path;
            tokio::task::spawn_blocking(move || {
                let out = image::to_webp(&src, format, &opts);
                drop(src);
                out
            })
            .await
            .map_err(|e| MediaError::Task(e.to_string()))??
        };
        let (width, height) = (webp.width, webp.height);
        let (file, path) = self.temp_file()?;
        let mut file = tokio::fs::File::from_std(file);
        file.write_all(&webp.bytes).await?;
        file.flush().await?;
        drop(file);
        let key = Key::generate(MessageKind::Image, Format::WebP.ext());
        let size = self.storage.put(&key, path).await?;
        Ok(Stored {
            key,
            kind,
            format: Format::WebP,
            size,
            width: Some(width),
            height: Some(height),
        })
    }

    /// Stores a received file and records it as `owner`'s upload; the
    /// stored file is removed again if the record fails.
    pub async fn keep(
        &self,
        service: &Service,
        owner: &UserId,
        received: Received,
        kind: MessageKind,
    ) -> Result<(Stored, Upload), KeepError> {
        let stored = self.store(received, kind).await?;
        let upload = Upload {
            path: stored.path(),
            owner: owner.clone(),
            kind: stored.kind,
            content_type: stored.content_type().to_owned(),
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            created_at: now_millis(),
        };
        match service.record_upload(upload).await {
            Ok(upload) => {
                tracing::debug!(key = %stored.key, size = stored.size, user = %owner, "upload stored");
                Ok((stored, upload))
            }
            Err(e) => {
                if let Err(d) = self.delete(&stored.key).await {
                    tracing::warn!(key = %stored.key, error = %d, "could not remove an unrecorded upload");
                }
                Err(e.into())
            }
        }
    }

    /// Keeps a received file as the kind its bytes show.
    pub async fn keep_sniffed(
        &self,
        service: &Service,
        owner: &UserId,
        received: Received,
    ) -> Result<Upload, KeepError> {
        let head = read_head(&received.path).await.map_err(MediaError::from)?;
        let kind = kind_of(&head);
        Ok(self.keep(service, owner, received, kind).await?.1)
    }

    /// Keeps a file that arrived whole (a socket's binary event), as the
    /// kind its bytes show, of at most `uploads.socket_max_bytes` (the
    /// listener's packets may be a little larger: room for their framing).
    pub async fn keep_bytes(
        &self,
        service: &Service,
        owner: &UserId,
        bytes: Bytes,
    ) -> Result<Upload, KeepError> {
        let kind = kind_of(&bytes[..bytes.len().min(sniff::SNIFF_LEN)]);
        let (limit, limit_of) = match self.config.socket_max_bytes {
            whole if whole < self.limit(kind) => (whole, None),
            _ => (self.limit(kind), Some(kind)),
        };
        let body = futures::stream::once(async move { Ok(bytes) });
        let received = self.receive(body, limit, limit_of).await?;
        Ok(self.keep(service, owner, received, kind).await?.1)
    }

    /// Opens a stored file by key.
    pub async fn open(&self, key: &Key) -> Result<Option<Object>, StorageError> {
        self.storage.open(key).await
    }

    /// Removes a stored file (e.g. when recording the upload failed).
    pub async fn delete(&self, key: &Key) -> Result<bool, StorageError> {
        self.storage.delete(key).await
    }
}

/// The first [`sniff::SNIFF_LEN`] bytes of a file (fewer if it is shorter).
async fn read_head(path: &Path) -> io::Result<Vec<u8>> {
    let file = tokio::fs::File::open(path).await?;
    let mut head = Vec::with_capacity(sniff::SNIFF_LEN);
    file.take(sniff::SNIFF_LEN as u64)
        .read_to_end(&mut head)
        .await?;
    Ok(head)
}

/// Best-effort removal of files in `dir` last modified more than `age` ago.
fn remove_stale(dir: &Path, age: Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|d| d > age);
        if old && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn media(dir: &Path, config: UploadsConfig) -> Media {
        let c = Config {
            data_dir: dir.to_path_buf(),
            uploads: config,
            ..Config::default()
        };
        Media::new(&c)
    }

    fn chunks(parts: &[&[u8]]) -> impl Stream<Item = Result<Bytes, MediaError>> + use<> {
        let owned: Vec<Result<Bytes, MediaError>> = parts
            .iter()
            .map(|p| Ok(Bytes::copy_from_slice(p)))
            .collect();
        stream::iter(owned)
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    stack.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }

    #[tokio::test]
    async fn a_file_is_streamed_sniffed_and_stored_under_a_generated_key() {
        let dir = tempfile::tempdir().expect("dir");
        let m = media(dir.path(), UploadsConfig::default());
        let r = m
            .receive(chunks(&[b"%PDF-1.4\n", b"rest of it"]), 1000, None)
            .await
            .expect("received");
        assert_eq!(r.size(), 19);
        let stored = m.store(r, MessageKind::File).await.expect("stored");
        assert_eq!(stored.format, Format::Pdf);
        assert!(stored.path().starts_with("/uploads/chat-messages/files/"));
        assert!(stored.path().ends_with(".pdf"));
        assert_eq!(stored.content_type(), "application/pdf");
        assert_eq!(content_type_of(&stored.key), "application/pdf");
        let on_disk = dir.path().join("uploads").join(stored.key.as_str());
        assert_eq!(
            std::fs::read(on_disk).expect("stored file"),
            b"%PDF-1.4\nrest of it"
        );
        assert!(files_in(&dir.path().join("uploads/.tmp")).is_empty());
    }

    #[tokio::test]
    async fn too_many_bytes_stop_the_stream_and_leave_nothing_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let m = media(dir.path(), UploadsConfig::default());
        let e = m
            .receive(
                chunks(&[&[1; 600], &[2; 600]]),
                1000,
                Some(MessageKind::Audio),
            )
            .await
            .expect_err("too large");
        assert!(matches!(e, MediaError::TooLarge { limit: 1000, .. }));
        assert_eq!(e.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(
            e.to_string(),
            "the file is larger than the 1000 bytes allowed for audio uploads"
        );
        assert!(
            files_in(dir.path()).is_empty(),
            "{:?}",
            files_in(dir.path())
        );
    }

    #[tokio::test]
    async fn a_broken_body_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("dir");
        let m = media(dir.path(), UploadsConfig::default());
        let body = stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Err(MediaError::Body {
                too_large: false,
                message: "connection reset".into(),
            }),
        ]);
        let e = m.receive(body, 1000, None).await.expect_err("broken");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert!(files_in(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn the_kind_limit_applies_after_the_fact_and_the_temp_file_goes() {
        let dir = tempfile::tempdir().expect("dir");
        let config = UploadsConfig {
            max_file_bytes: 10,
            ..UploadsConfig::default()
        };
        let m = media(dir.path(), config);
        let r = m
            .receive(chunks(&[b"%PDF-1.4 and more"]), m.largest_limit(), None)
            .await
            .expect("received");
        let e = m.store(r, MessageKind::File).await.expect_err("too large");
        assert!(matches!(e, MediaError::TooLarge { limit: 10, .. }));
        assert!(files_in(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn a_mismatch_is_refused_and_nothing_is_stored() {
        let dir = tempfile::tempdir().expect("dir");
        let m = media(dir.path(), UploadsConfig::default());
        let r = m
            .receive(chunks(&[b"PK\x03\x04 a zip"]), 1000, None)
            .await
            .expect("received");
        let e = m.store(r, MessageKind::Image).await.expect_err("no image");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            e.to_string(),
            "the file is not an image (it looks like zip)"
        );
        assert!(files_in(dir.path()).is_empty());

        let r = m
            .receive(chunks(&[b""]), 1000, None)
            .await
            .expect("received");
        let e = m.store(r, MessageKind::File).await.expect_err("empty");
        assert!(matches!(e, MediaError::Empty));
        let r = m
            .receive(chunks(&[b"hi"]), 1000, None)
            .await
            .expect("received");
        let e = m.store(r, MessageKind::Text).await.expect_err("text");
        assert!(matches!(e, MediaError::Rejected(Rejected::NotAnUploadKind)));
        assert!(files_in(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn stale_temporary_files_are_removed_at_start() {
        let dir = tempfile::tempdir().expect("dir");
        let tmp = dir.path().join("uploads").join(TMP_DIR);
        std::fs::create_dir_all(&tmp).expect("tmp");
        let old = tmp.join("upload-old.part");
        std::fs::write(&old, b"x").expect("write");
        let f = std::fs::File::options()
            .write(true)
            .open(&old)
            .expect("open");
        f.set_modified(SystemTime::now() - Duration::from_secs(7200))
            .expect("mtime");
        let fresh = tmp.join("upload-new.part");
        std::fs::write(&fresh, b"y").expect("write");
        let _m = media(dir.path(), UploadsConfig::default());
        assert!(!old.exists());
        assert!(fresh.exists());
    }

    #[test]
    fn server_errors_hide_their_details() {
        let e = MediaError::Io(io::Error::other("/secret/path"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.public_message(), "internal error");
        let e = MediaError::Rejected(Rejected::UnsupportedImage(Format::Heic));
        assert_eq!(e.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
}
