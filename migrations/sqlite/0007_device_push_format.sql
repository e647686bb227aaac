-- The shape of the push data a device's app reads, chosen by the dialect
-- that registered the device ('vchat': the V Chat SDK's `roomId` and
-- `message`). NULL: confab's neutral data.
ALTER TABLE devices ADD COLUMN push_format TEXT NULL;
