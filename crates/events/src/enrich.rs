//! The enrichment, exactly as the recipe's handler computes it: a score per event type, an
//! engagement level from the score, and a one-line insight.

/// The score of an event type: view 1, add_to_cart 5, purchase 10, wishlist 3, share 2,
/// review 8, anything else 1.
pub fn score(event_type: &str) -> u8 {
    match event_type {
        "view" => 1,
        "add_to_cart" => 5,
        "purchase" => 10,
        "wishlist" => 3,
        "share" => 2,
        "review" => 8,
        _ => 1,
    }
}

/// `high` from 8, `medium` from 5, else `low`.
pub fn engagement_level(score: u8) -> &'static str {
    match score {
        8.. => "high",
        5.. => "medium",
        _ => "low",
    }
}

/// What the user did, as the insight's verb.
fn verb(event_type: &str) -> &str {
    match event_type {
        "view" => "viewed",
        "add_to_cart" => "added to cart",
        "purchase" => "purchased",
        "wishlist" => "wishlisted",
        "share" => "shared",
        "review" => "reviewed",
        other => other,
    }
}

/// `User U <verb> product P` (`an unknown product` when the event names none).
pub fn insight(user_id: &str, event_type: &str, product_id: Option<&str>) -> String {
    let product = product_id.unwrap_or("an unknown");
    format!("User {user_id} {} product {product}", verb(event_type))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_and_levels_follow_the_recipe() {
        let table = [
            ("view", 1, "low"),
            ("add_to_cart", 5, "medium"),
            ("purchase", 10, "high"),
            ("wishlist", 3, "low"),
            ("share", 2, "low"),
            ("review", 8, "high"),
            ("something_else", 1, "low"),
        ];
        for (event_type, expected, level) in table {
            assert_eq!(score(event_type), expected, "{event_type}");
            assert_eq!(engagement_level(score(event_type)), level, "{event_type}");
        }
        assert_eq!(engagement_level(7), "medium");
        assert_eq!(engagement_level(4), "low");
    }

    #[test]
    fn insights_name_user_action_and_product() {
        assert_eq!(
            insight("u1", "purchase", Some("p9")),
            "User u1 purchased product p9"
        );
        assert_eq!(
            insight("u1", "add_to_cart", Some("p9")),
            "User u1 added to cart product p9"
        );
        assert_eq!(
            insight("u1", "login", None),
            "User u1 login product an unknown"
        );
    }
}
