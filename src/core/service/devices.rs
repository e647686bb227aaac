//! Push devices: the tokens of a user's devices, registered and removed by
//! their owner (one by one, or all at once on log out).

use super::{Result, Service};
use crate::core::command::Actor;
use crate::core::{CoreError, Device, DevicePlatform, now_millis};

/// The longest push token accepted (FCM tokens are about 160 bytes; web push
/// subscriptions serialized as JSON are longer).
const MAX_DEVICE_TOKEN: usize = 4096;

impl Service {
    /// Registers a push token of one of `actor`'s devices (moving it from
    /// another user if it was theirs): 1 to 4096 visible ASCII characters.
    /// `push_format` names the shape of the push data its app reads (a
    /// dialect's choice; `None`: the neutral data).
    pub async fn register_device(
        &self,
        actor: &Actor,
        token: &str,
        platform: DevicePlatform,
        push_format: Option<&str>,
    ) -> Result<Device> {
        validate_device_token(token)?;
        let device = Device {
            user_id: actor.id().clone(),
            token: token.to_owned(),
            platform,
            created_at: now_millis(),
            push_format: push_format.map(str::to_owned),
        };
        self.store.add_device(&device).await?;
        Ok(device)
    }

    /// Removes one of `actor`'s push tokens; false if they had no such token.
    pub async fn remove_device(&self, actor: &Actor, token: &str) -> Result<bool> {
        validate_device_token(token)?;
        Ok(self.store.remove_device(actor.id(), token).await?)
    }

    /// Removes every push token of `actor` (a log out); how many there were.
    pub async fn remove_devices(&self, actor: &Actor) -> Result<usize> {
        let devices = self
            .store
            .devices_of(std::slice::from_ref(actor.id()))
            .await?;
        let mut removed = 0;
        for d in devices {
            if self.store.remove_device(actor.id(), &d.token).await? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

fn validate_device_token(token: &str) -> Result<()> {
    if (1..=MAX_DEVICE_TOKEN).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_graphic())
    {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "a device token must be 1 to 4096 visible ASCII characters",
        ))
    }
}
