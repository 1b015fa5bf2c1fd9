//! The event mix: what share of events each event type has. `EventTypeIndex` is keyed on the
//! event type, so the most common type is its hottest partition key value.
//!
//! The default is the recipe's: its producer draws view, add_to_cart, purchase, wishlist,
//! share and review with weights 60/20/10/5/3/2 (`EVENT_WEIGHTS` in
//! crates/events/src/generator.rs; tests/capacity.rs checks the two stay equal).
//! `--event-mix view=0.5,purchase=0.5` replaces it: only the recipe's event types, shares of
//! at least 0 that add up to 1; a type left out has no events.

use std::fmt;

/// The recipe's event types and their weights in percent, in the generator's order.
pub const RECIPE_WEIGHTS: [(&str, u32); 6] = events::EVENT_WEIGHTS;

/// How far the shares of `--event-mix` may add up to something other than 1 (three shares
/// of 0.333 are fine).
const SUM_TOLERANCE: f64 = 0.001;

/// The flag whose value [`EventMix::parse`] reads, named in its errors.
pub const FLAG: &str = "--event-mix";

/// Each event type's share of all events, in the recipe's order of types; the shares add up
/// to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMix {
    shares: Vec<(&'static str, f64)>,
}

/// Why an `--event-mix` value was refused; each names the flag and the part at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MixError {
    /// A part is not `type=share`.
    #[error(
        "{FLAG} takes TYPE=SHARE pairs separated by commas, e.g. view=0.6,purchase=0.4; got {0:?}"
    )]
    Shape(String),
    /// A type the recipe does not produce.
    #[error("{FLAG}: unknown event type {0:?}; the event types are {types}", types = type_names())]
    UnknownType(String),
    /// The same type twice.
    #[error("{FLAG}: event type {0:?} is given twice")]
    Repeated(String),
    /// A share that is not a number of at least 0.
    #[error("{FLAG}: the share of {0} must be a number of at least 0, got {1:?}")]
    Share(String, String),
    /// Shares that do not add up to 1.
    #[error("{FLAG}: the shares must add up to 1 (types left out have none), got {0} in {1:?}")]
    Sum(f64, String),
}

fn type_names() -> String {
    let names: Vec<&str> = RECIPE_WEIGHTS.iter().map(|(name, _)| *name).collect();
    names.join(", ")
}

impl Default for EventMix {
    /// The recipe's mix.
    fn default() -> Self {
        let total: u32 = RECIPE_WEIGHTS.iter().map(|(_, w)| w).sum();
        EventMix {
            shares: RECIPE_WEIGHTS
                .iter()
                .map(|(name, weight)| (*name, f64::from(*weight) / f64::from(total)))
                .collect(),
        }
    }
}

impl EventMix {
    /// Reads `view=0.6,purchase=0.4`: the recipe's types only, each at most once, shares
    /// of at least 0 adding up to 1; a type left out gets 0.
    pub fn parse(text: &str) -> Result<EventMix, MixError> {
        let mut shares: Vec<(&'static str, f64)> = RECIPE_WEIGHTS
            .iter()
            .map(|(name, _)| (*name, 0.0))
            .collect();
        let mut seen = Vec::new();
        for part in text.split(',') {
            let (name, value) = part
                .split_once('=')
                .map(|(n, v)| (n.trim(), v.trim()))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| MixError::Shape(part.to_owned()))?;
            let slot = shares
                .iter_mut()
                .find(|(known, _)| *known == name)
                .ok_or_else(|| MixError::UnknownType(name.to_owned()))?;
            if seen.contains(&name) {
                return Err(MixError::Repeated(name.to_owned()));
            }
            seen.push(name);
            slot.1 = value
                .parse::<f64>()
                .ok()
                .filter(|share| share.is_finite() && *share >= 0.0)
                .ok_or_else(|| MixError::Share(name.to_owned(), value.to_owned()))?;
        }
        let sum: f64 = shares.iter().map(|(_, share)| share).sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            let shown = (sum * 1e6).round() / 1e6;
            return Err(MixError::Sum(shown, text.to_owned()));
        }
        Ok(EventMix { shares })
    }

    /// Every type with its share, in the recipe's order.
    pub fn shares(&self) -> &[(&'static str, f64)] {
        &self.shares
    }

    /// The most common type and its share (the first one on a tie).
    pub fn hottest(&self) -> (&'static str, f64) {
        self.shares.iter().copied().fold(
            ("", 0.0),
            |best, next| if next.1 > best.1 { next } else { best },
        )
    }
}

/// The events an event source mapping's type filter hands to the function.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivered {
    /// The delivered types' shares among the delivered events (adding up to 1).
    pub mix: EventMix,
    /// The delivered events' share of all events, above 0.
    pub share: f64,
}

impl EventMix {
    /// What a filter on `types` (`lambda_filter_event_types`) delivers: `None` when it
    /// passes everything (no types) or nothing of this mix (no events downstream at all).
    pub fn delivered(&self, types: &[String]) -> Option<Delivered> {
        if types.is_empty() {
            return None;
        }
        let kept = |name: &str| types.iter().any(|t| t == name);
        let share: f64 = self
            .shares
            .iter()
            .filter(|(name, _)| kept(name))
            .map(|(_, s)| s)
            .sum();
        if share <= 0.0 {
            return None;
        }
        let shares = self
            .shares
            .iter()
            .map(|(name, s)| (*name, if kept(name) { s / share } else { 0.0 }))
            .collect();
        Some(Delivered {
            mix: EventMix { shares },
            share,
        })
    }
}

impl fmt::Display for EventMix {
    /// `view 60 %, add_to_cart 20 %, ...`, types without events left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .shares
            .iter()
            .filter(|(_, share)| *share > 0.0)
            .map(|(name, share)| format!("{name} {} %", percent(*share)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// A share as a percentage for people: at most two decimals, no trailing zeros.
pub fn percent(share: f64) -> String {
    let text = format!("{:.2}", share * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_recipes_mix_with_view_hottest() {
        let mix = EventMix::default();
        assert_eq!(mix.hottest(), ("view", 0.6));
        assert_eq!(mix.shares()[2], ("purchase", 0.1));
        assert_eq!(
            mix.to_string(),
            "view 60 %, add_to_cart 20 %, purchase 10 %, wishlist 5 %, share 3 %, review 2 %"
        );
    }

    #[test]
    fn a_mix_names_some_types_and_the_rest_get_none() {
        let mix = EventMix::parse("view=0.3, purchase=0.7").unwrap();
        assert_eq!(mix.hottest(), ("purchase", 0.7));
        assert_eq!(mix.shares()[1], ("add_to_cart", 0.0));
        assert_eq!(mix.to_string(), "view 30 %, purchase 70 %");
        let thirds = EventMix::parse("view=0.333,share=0.333,review=0.334").unwrap();
        assert_eq!(thirds.hottest(), ("review", 0.334));
    }

    #[test]
    fn a_type_filter_delivers_its_types_share_renormalised() {
        let types = ["purchase".to_owned(), "add_to_cart".to_owned()];
        let delivered = EventMix::default().delivered(&types).unwrap();
        assert!((delivered.share - 0.3).abs() < 1e-12);
        let (hottest, share) = delivered.mix.hottest();
        assert_eq!(hottest, "add_to_cart");
        assert!((share - 0.2 / 0.3).abs() < 1e-12);
        assert_eq!(delivered.mix.shares()[0], ("view", 0.0));
        assert_eq!(EventMix::default().delivered(&[]), None);
        assert_eq!(EventMix::default().delivered(&["click".to_owned()]), None);
    }

    #[test]
    fn bad_mixes_name_the_flag_and_the_part_at_fault() {
        for (text, expected) in [
            ("view", "got \"view\""),
            ("view=0.5,=0.5", "got \"=0.5\""),
            ("click=1", "unknown event type \"click\""),
            ("view=0.5,view=0.5", "\"view\" is given twice"),
            (
                "view=-0.1,purchase=1.1",
                "share of view must be a number of at least 0, got \"-0.1\"",
            ),
            ("view=lots", "got \"lots\""),
            ("view=NaN", "got \"NaN\""),
            ("view=0.6,purchase=0.1", "must add up to 1"),
            ("view=0", "got 0 in"),
        ] {
            let message = EventMix::parse(text).unwrap_err().to_string();
            assert!(message.starts_with("--event-mix"), "{text}: {message}");
            assert!(message.contains(expected), "{text}: {message}");
        }
        let message = EventMix::parse("click=1").unwrap_err().to_string();
        assert!(message.contains("view, add_to_cart, purchase, wishlist, share, review"));
    }
}
