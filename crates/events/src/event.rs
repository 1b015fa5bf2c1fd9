//! The retail event as producers send it, with the recipe's field names.

use serde::{Deserialize, Serialize};

/// One retail event, as the recipe's test_data_producer.py sends it, plus an optional
/// `eventId`.
///
/// Only `userId` and `eventType` are required by the processor; everything else is what a
/// realistic producer sends. The `eventId` is our addition: with it, a producer's retry of
/// the same event overwrites one item instead of creating a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetailEvent {
    /// The producer's id of the event (a UUID from the generator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Who acted, e.g. `user-3f0c…` (the recipe's `user-` + UUID).
    pub user_id: String,
    /// view, add_to_cart, purchase, wishlist, share or review.
    pub event_type: String,
    /// What they acted on, e.g. `electronics-laptop-007`.
    pub product_id: String,
    /// When, in epoch milliseconds.
    pub timestamp: i64,
    /// The browsing session (a UUID, kept for 30 minutes per user).
    pub session_id: String,
    /// The client's user agent.
    pub user_agent: String,
    /// The client's IPv4 address.
    pub ip_address: String,
    /// Who the user is and where the visit came from.
    pub metadata: Metadata,
    /// Unit price in USD with two decimals, on purchases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    /// `USD`, on purchases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Units: 1–3 on purchases, 1–5 on add_to_cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Stars 1–5, on reviews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
}

/// The recipe's `metadata` object: the user's profile and the visit's context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// new, returning or premium.
    pub user_type: String,
    /// Country code: US, CA, UK, DE, FR, AU or JP.
    pub location: String,
    /// 18-25, 26-35, 36-45, 46-55 or 55+.
    pub age_group: String,
    /// Where the visit came from, e.g. `https://www.google.com/search`.
    pub referrer: String,
    /// iOS, Android, Windows or macOS, from the user agent.
    pub platform: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_are_the_recipes() {
        let event = RetailEvent {
            event_id: Some("e".into()),
            user_id: "u".into(),
            event_type: "review".into(),
            product_id: "p".into(),
            timestamp: 1_700_000_000_000,
            session_id: "s".into(),
            user_agent: "a".into(),
            ip_address: "1.2.3.4".into(),
            metadata: Metadata {
                user_type: "new".into(),
                location: "US".into(),
                age_group: "18-25".into(),
                referrer: "https://direct".into(),
                platform: "iOS".into(),
            },
            price: None,
            currency: None,
            quantity: None,
            rating: Some(4),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"eventId":"e","userId":"u","eventType":"review","productId":"p","timestamp":1700000000000,"sessionId":"s","userAgent":"a","ipAddress":"1.2.3.4","metadata":{"userType":"new","location":"US","ageGroup":"18-25","referrer":"https://direct","platform":"iOS"},"rating":4}"#
        );
        let back: RetailEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }
}
