//! The push data the V Chat SDK v1 reads (`NotificationService`): a push
//! with `data.roomId` is a message of that room; the SDK shows it (when
//! the room is not open) and stores `VChatMessage.fromMap(jsonDecode(
//! data.message))` in its local history, in the foreground and in the
//! background handler alike, and opens the room when the notification is
//! tapped. Devices registered through V Chat's REST calls (`fcmToken` of
//! `user/register`, `user/login`, `PATCH user`) have the push format
//! [`PUSH_FORMAT`]; `crate::push` adds these fields to its neutral data for
//! them.

use std::collections::BTreeMap;

use super::shapes::message_json;
use crate::core::{Message, UserSummary};

/// The push format of a V Chat device.
pub const PUSH_FORMAT: &str = "vchat";

/// The longest `message` field, in bytes: FCM refuses a push of more than
/// 4096 bytes, and the neutral data and the notification come with it.
pub const MAX_MESSAGE_BYTES: usize = 2048;

/// `roomId` (the room's id, as in every V Chat shape) and `message` (the
/// message as the SDK parses it, as a JSON string; a text too long for a
/// push is cut short: the SDK's history gets the whole message when the
/// room is next opened).
pub fn push_data(message: &Message, sender: &UserSummary) -> BTreeMap<String, String> {
    let shown =
        |m: &Message| message_json(m, sender.name(), sender.avatar_url.as_deref()).to_string();
    let mut json = shown(message);
    if json.len() > MAX_MESSAGE_BYTES {
        // The most characters of the text that fit: a binary search.
        let text: Vec<char> = message
            .text
            .as_deref()
            .unwrap_or_default()
            .chars()
            .collect();
        let cut_to = |n: usize| {
            shown(&Message {
                text: Some(text[..n].iter().collect()),
                ..message.clone()
            })
        };
        let (mut fits, mut over) = (0, text.len());
        while over - fits > 1 {
            let mid = fits + (over - fits) / 2;
            if cut_to(mid).len() <= MAX_MESSAGE_BYTES {
                fits = mid;
            } else {
                over = mid;
            }
        }
        json = cut_to(fits);
    }
    BTreeMap::from([
        ("roomId".to_owned(), message.conversation_string_id()),
        ("message".to_owned(), json),
    ])
}
