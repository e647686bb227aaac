//! The `[uploads]` table: where uploaded files are stored and the limits of
//! each kind.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::error::{ConfigError, LEAVE_IT_OUT, invalid, require_positive};

/// File uploads (`POST /api/chat/uploadFile`, `POST /api/uploads`) and
/// their per-type limits (Syarah's seed: images become WebP within
/// 1920×1920, video up to 500 MB, audio and files up to 50 MB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsConfig {
    /// Folder of the stored files; None → `<data_dir>/uploads`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
    /// Largest image upload (before transcoding), bytes.
    pub max_image_bytes: u64,
    /// Largest video upload, bytes.
    pub max_video_bytes: u64,
    /// Largest audio upload, bytes.
    pub max_audio_bytes: u64,
    /// Largest file (document) upload, bytes.
    pub max_file_bytes: u64,
    /// Images are scaled down to fit within this many pixels on each side.
    pub image_max_side: u32,
    /// Images with more pixels than this are refused before decoding (the
    /// decompression-bomb guard).
    pub image_max_pixels: u64,
    /// Lossy WebP quality of transcoded images, 0–100.
    pub webp_quality: u8,
    /// Largest file sent whole in a Socket.IO event (Voxora's binary
    /// `file_upload`), bytes. The listeners of dialects with such an event
    /// accept packets this large; bigger files go through `POST /api/uploads`.
    pub socket_max_bytes: u64,
}

impl Default for UploadsConfig {
    fn default() -> Self {
        UploadsConfig {
            dir: None,
            max_image_bytes: 20 * 1024 * 1024,
            max_video_bytes: 500 * 1024 * 1024,
            max_audio_bytes: 50 * 1024 * 1024,
            max_file_bytes: 50 * 1024 * 1024,
            image_max_side: 1920,
            image_max_pixels: 40_000_000,
            webp_quality: 80,
            socket_max_bytes: 1024 * 1024,
        }
    }
}

/// Largest `uploads.socket_max_bytes`: a socket event is held whole in memory.
pub const MAX_SOCKET_UPLOAD: u64 = 16 * 1024 * 1024;

/// Largest `uploads.image_max_side` (the WebP format's limit).
pub const MAX_WEBP_SIDE: u32 = 16_383;

impl UploadsConfig {
    /// Checks the `uploads.*` keys; the error names the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        require_positive(&[
            ("uploads.max_image_bytes", self.max_image_bytes),
            ("uploads.max_video_bytes", self.max_video_bytes),
            ("uploads.max_audio_bytes", self.max_audio_bytes),
            ("uploads.max_file_bytes", self.max_file_bytes),
            ("uploads.image_max_side", u64::from(self.image_max_side)),
            ("uploads.image_max_pixels", self.image_max_pixels),
            ("uploads.socket_max_bytes", self.socket_max_bytes),
        ])?;
        if self.image_max_side > MAX_WEBP_SIDE {
            return Err(invalid(
                "uploads.image_max_side",
                format!("must be at most {MAX_WEBP_SIDE} (the WebP limit)"),
            ));
        }
        if self.socket_max_bytes > MAX_SOCKET_UPLOAD {
            return Err(invalid(
                "uploads.socket_max_bytes",
                format!(
                    "must be at most {MAX_SOCKET_UPLOAD} (use POST /api/uploads for bigger files)"
                ),
            ));
        }
        if self.webp_quality > 100 {
            return Err(invalid("uploads.webp_quality", "must be at most 100"));
        }
        if self.dir.as_ref().is_some_and(|d| d.as_os_str().is_empty()) {
            return Err(invalid("uploads.dir", LEAVE_IT_OUT));
        }
        Ok(())
    }
}
