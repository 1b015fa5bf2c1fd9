//! The enrichment, as the recipe's Lambda (`process_event` in lambda_function.py.tpl)
//! computes it: a score per event type, an engagement level from the score, and a
//! one-line insight. Kept identical so dashboards and queries built on the recipe's table
//! keep their meaning.

/// The score of an event type: view 1, add_to_cart 5, purchase 10, wishlist 3, share 2,
/// review 8; any other type 1 (the recipe's default).
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

/// The insight's verb phrase for an event type; `interacted with` for types the recipe
/// does not name.
pub fn action(event_type: &str) -> &'static str {
    match event_type {
        "view" => "viewed",
        "add_to_cart" => "added to cart",
        "purchase" => "purchased",
        "wishlist" => "added to wishlist",
        "share" => "shared",
        "review" => "reviewed",
        _ => "interacted with",
    }
}

/// `User U <action> product P`; P is `unknown` when the event names no product, as in the
/// recipe.
pub fn insight(user_id: &str, event_type: &str, product_id: Option<&str>) -> String {
    let mut text = String::new();
    write_insight(&mut text, user_id, event_type, product_id);
    text
}

/// [`insight`], appended to `out`.
pub(crate) fn write_insight(
    out: &mut String,
    user_id: &str,
    event_type: &str,
    product_id: Option<&str>,
) {
    let action = action(event_type);
    let product = product_id.unwrap_or("unknown");
    out.reserve(5 + user_id.len() + 1 + action.len() + 9 + product.len());
    for part in ["User ", user_id, " ", action, " product ", product] {
        out.push_str(part);
    }
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
            ("", 1, "low"),
            ("VIEW", 1, "low"),
        ];
        for (event_type, expected, level) in table {
            assert_eq!(score(event_type), expected, "{event_type}");
            assert_eq!(engagement_level(score(event_type)), level, "{event_type}");
        }
    }

    #[test]
    fn levels_have_their_thresholds() {
        let levels: Vec<&str> = (0..=11).map(engagement_level).collect();
        assert_eq!(
            levels,
            [
                "low", "low", "low", "low", "low", "medium", "medium", "medium", "high", "high",
                "high", "high"
            ]
        );
        assert_eq!(engagement_level(u8::MAX), "high");
    }

    #[test]
    fn insights_name_user_action_and_product() {
        for (event_type, text) in [
            ("view", "User u1 viewed product p9"),
            ("add_to_cart", "User u1 added to cart product p9"),
            ("purchase", "User u1 purchased product p9"),
            ("wishlist", "User u1 added to wishlist product p9"),
            ("share", "User u1 shared product p9"),
            ("review", "User u1 reviewed product p9"),
            ("login", "User u1 interacted with product p9"),
        ] {
            assert_eq!(insight("u1", event_type, Some("p9")), text);
        }
        assert_eq!(
            insight("u1", "view", None),
            "User u1 viewed product unknown"
        );
    }
}
