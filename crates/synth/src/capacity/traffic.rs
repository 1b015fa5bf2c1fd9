//! What the traffic looks like to the partition keys: how events spread over users and
//! products, and how big a Kinesis record is. The figures are the recipe's event generator's
//! (the `events` crate's, which the producer sends); the event size is the cost
//! model's default load.

use crate::cost::DEFAULT_LOAD;

/// The generator's users: events pick one of them uniformly.
pub const RECIPE_USERS: u32 = events::USERS as u32;

/// The generator's catalogue: 5 categories × 5 subcategories × 20 products.
pub const RECIPE_PRODUCTS: u32 = events::PRODUCTS;

/// A user id is `user-` and a UUID, the Kinesis partition key of every event (it counts
/// towards a shard's 1 MiB/s).
pub const PARTITION_KEY_BYTES: f64 = 41.0;

/// The event size when none is given: the cost model's default (the generator's events
/// average about 460–480 bytes, so 500 is slightly conservative).
pub const DEFAULT_EVENT_BYTES: f64 = DEFAULT_LOAD.avg_event_bytes;

/// The share of all events that the busiest user sends: the generator picks users
/// uniformly.
pub fn hottest_user_share() -> f64 {
    1.0 / f64::from(RECIPE_USERS)
}

/// The share of all events that name the best-selling product. The generator picks the
/// user's preferred category 70 % of the time and any category otherwise, then a product of
/// the category uniformly; with the users' preferences spread evenly over the categories,
/// every product gets 1/500 of the events.
pub fn hottest_product_share() -> f64 {
    1.0 / f64::from(RECIPE_PRODUCTS)
}

/// A Kinesis record's size against the shard's byte limit: the event and its partition key.
pub fn record_bytes(event_bytes: f64) -> f64 {
    event_bytes + PARTITION_KEY_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generators_shares() {
        assert_eq!(hottest_user_share(), 0.01);
        assert_eq!(hottest_product_share(), 0.002);
        assert_eq!(record_bytes(500.0), 541.0);
    }
}
