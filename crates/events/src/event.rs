//! The retail event as producers send it (the recipe's field names).

use serde::{Deserialize, Serialize};

/// One retail event. Only `userId` and `eventType` are required by the processor; the
/// producer fills every field the recipe's producer did, plus `eventId`, so retries and
/// replays address the same item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetailEvent {
    /// The producer's own id of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Who acted.
    pub user_id: String,
    /// view, add_to_cart, purchase, wishlist, share or review.
    pub event_type: String,
    /// What they acted on.
    pub product_id: String,
    /// When, in epoch milliseconds.
    pub timestamp: i64,
    /// The browsing session.
    pub session_id: String,
    /// The client's user agent.
    pub user_agent: String,
    /// The client's address.
    pub ip_address: String,
    /// Product price, for events that involve one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// ISO currency of the price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Units, for cart and purchase events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Stars, for reviews.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    /// Where the event came from and the user's context.
    pub metadata: Metadata,
}

/// Context of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// web, mobile or api.
    pub source: String,
    /// The product's category.
    pub category: String,
    /// The user's segment (e.g. premium).
    pub user_segment: String,
    /// The page or screen.
    pub page: String,
}
