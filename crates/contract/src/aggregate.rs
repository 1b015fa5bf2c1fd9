//! The per-minute aggregate table (docs/aggregates.md): its keys and attributes, which the
//! processor writes at a tumbling window's end, `query aggregates` reads and sums, and its
//! `--rebuild` replaces from the event table. The figures' encoding is the `aggregates`
//! crate's.
//!
//! One item is one *part* of the figures of one event-time minute: what one shard's Lambda
//! window (or one part of it, when the window's state had to be split) counted of that
//! minute, or what a rebuild counted of it from the event table. Items are keyed so that a
//! day of minutes is one partition read in key order, and a retried write of the same part
//! overwrites the same item.

/// Partition key (S): the UTC day of the minute, `YYYY-MM-DD`.
pub const DAY: &str = "day";
/// Sort key (S): `HH:MM#<source>`, the minute first so that a range of minutes is a range
/// of keys; `<source>` is `<shardId>#<window start, epoch ms>#<first sequence number of the
/// part>` for a window's part, [`REBUILD_SOURCE`] for a rebuilt minute.
pub const PART: &str = "part";
/// The `<source>` of a minute rebuilt from the event table.
pub const REBUILD_SOURCE: &str = "rebuild";

/// The minute's start, epoch milliseconds (N).
pub const MINUTE: &str = "minute";
/// Events counted (N).
pub const EVENTS: &str = "events";
/// Events counted by `eventType` (M of N).
pub const BY_TYPE: &str = "byType";
/// Purchases counted (N).
pub const PURCHASES: &str = "purchases";
/// Revenue of those purchases, exact integer US cents (N).
pub const REVENUE_CENTS: &str = "revenueCents";
/// Purchases without a usable `price` (counted, no revenue) (N).
pub const UNPRICED_PURCHASES: &str = "unpricedPurchases";
/// Purchases and revenue per `productId` (M of M{purchases, revenueCents}).
pub const PRODUCTS: &str = "products";
/// The distinct users' sketch, encoded (S).
pub const USERS: &str = "users";
/// The sketch's estimate of distinct users, for a reader of the raw item (N).
pub const USERS_ESTIMATE: &str = "usersEstimate";
/// Records dead-lettered, by their event's minute (or arrival minute) (N).
pub const DEAD_LETTERED: &str = "deadLettered";
/// The shard of a window's part (S); absent on a rebuilt minute.
pub const SHARD: &str = "shardId";
/// The Lambda window's start, epoch ms (N); absent on a rebuilt minute.
pub const WINDOW_START: &str = "windowStart";
/// When the item was written, epoch ms (N).
pub const WRITTEN_AT: &str = "writtenAt";
/// The table's TTL attribute, epoch seconds (N), when `dynamodb_ttl_days` is set.
pub const EXPIRES_AT: &str = "expiresAt";
/// The sequence number of the first record a window's part counted (S); absent on a
/// rebuilt minute.
pub const FIRST_SEQUENCE: &str = "firstSequence";
/// Where the figures came from (S): `window` or `rebuild`.
pub const SOURCE: &str = "source";
