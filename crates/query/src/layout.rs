//! Which index answers a question, and under which partition key values, learned from the
//! table itself (DescribeTable) rather than assumed: the stack keys `EventTypeIndex` on
//! `eventType` with one write shard and on `eventTypeShard` with more (and `ProductIndex`
//! on `productId` / `productIdShard`), and a tool that guessed wrong would read an empty
//! index without a word.

use contract::index::{self, EVENT_TYPE_SHARD, PRODUCT_ID_SHARD};

/// The sort key of both indexes: the event's time in epoch milliseconds.
pub const SORT_KEY: &str = "eventTimestamp";

/// What is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// Events of one type (`--event-type`).
    EventType(String),
    /// Events of one product (`--product-id`).
    ProductId(String),
}

impl By {
    /// The value asked for.
    pub fn value(&self) -> &str {
        match self {
            By::EventType(v) | By::ProductId(v) => v,
        }
    }

    /// The item attribute holding the value, unsharded.
    pub fn plain_attribute(&self) -> &'static str {
        match self {
            By::EventType(_) => "eventType",
            By::ProductId(_) => "productId",
        }
    }

    /// The item attribute holding `value#shard` when the index is write-sharded.
    pub fn sharded_attribute(&self) -> &'static str {
        match self {
            By::EventType(_) => EVENT_TYPE_SHARD,
            By::ProductId(_) => PRODUCT_ID_SHARD,
        }
    }
}

/// The table's own key (partition, sort): what BatchGetItem fetches an item by.
pub const TABLE_KEY: [&str; 2] = ["userId", "eventKey"];

/// What an index copies of each item (its `Projection` in DescribeTable). Only `All` answers
/// with whole items; with the others an index item holds the table's and the index's keys
/// (plus, with `Include`, the attributes named), and `query` fetches the rest from the
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// The keys only.
    KeysOnly,
    /// The keys and these attributes.
    Include(Vec<String>),
    /// Not said, or a type this tool does not know: treated as partial, which is always
    /// right (fetching an item whole costs reads, printing half of one would mislead).
    Unknown(String),
}

impl Projection {
    /// The projection DescribeTable names by `kind` (`ALL`, `KEYS_ONLY`, `INCLUDE`) with
    /// `non_key` attributes.
    pub fn from_described(kind: Option<&str>, non_key: &[String]) -> Projection {
        match kind {
            Some("ALL") => Projection::All,
            Some("KEYS_ONLY") => Projection::KeysOnly,
            Some("INCLUDE") => Projection::Include(non_key.to_vec()),
            Some(other) => Projection::Unknown(other.to_owned()),
            None => Projection::Unknown("none given".to_owned()),
        }
    }

    /// Whether the index's items are whole: only then is no item fetched from the table.
    pub fn is_whole(&self) -> bool {
        matches!(self, Projection::All)
    }
}

impl std::fmt::Display for Projection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Projection::All => f.write_str("ALL"),
            Projection::KeysOnly => f.write_str("KEYS_ONLY"),
            Projection::Include(names) => write!(f, "INCLUDE({})", names.join(", ")),
            Projection::Unknown(what) => write!(f, "unknown ({what})"),
        }
    }
}

/// A global secondary index as DescribeTable shows it: its name, key attributes and
/// projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexKeys {
    /// The index's name.
    pub name: String,
    /// Its partition key attribute.
    pub partition: String,
    /// Its sort key attribute, if any.
    pub sort: Option<String>,
    /// What it copies of each item.
    pub projection: Projection,
}

/// The index to query for a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The index's name.
    pub name: String,
    /// Its partition key attribute (`eventType`, `eventTypeShard`, ...).
    pub partition: String,
    /// Whether the partition key is write-sharded (`value#shard`).
    pub sharded: bool,
    /// What it copies of each item.
    pub projection: Projection,
}

/// Why no index answers the question.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "table {table} has no index keyed on {plain} or {sharded} with sort key eventTimestamp \
     (its indexes: {found}); is it the pipeline's event table?"
)]
pub struct NoIndex {
    /// The table.
    pub table: String,
    /// The plain attribute looked for.
    pub plain: &'static str,
    /// The sharded attribute looked for.
    pub sharded: &'static str,
    /// The indexes it has, for the message.
    pub found: String,
}

/// Finds the index keyed on `by`'s attribute (sharded preferred: while the stack moves
/// from one to the other, the sharded one is the one being written) with sort key
/// `eventTimestamp`.
pub fn find(table: &str, indexes: &[IndexKeys], by: &By) -> Result<Index, NoIndex> {
    let with = |attribute: &str| {
        indexes
            .iter()
            .find(|i| i.partition == attribute && i.sort.as_deref() == Some(SORT_KEY))
    };
    let (found, sharded) = match with(by.sharded_attribute()) {
        Some(index) => (index, true),
        None => match with(by.plain_attribute()) {
            Some(index) => (index, false),
            None => {
                let names: Vec<String> = indexes
                    .iter()
                    .map(|i| format!("{}({})", i.name, i.partition))
                    .collect();
                return Err(NoIndex {
                    table: table.to_owned(),
                    plain: by.plain_attribute(),
                    sharded: by.sharded_attribute(),
                    found: if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    },
                });
            }
        },
    };
    Ok(Index {
        name: found.name.clone(),
        partition: found.partition.clone(),
        sharded,
        projection: found.projection.clone(),
    })
}

/// The partition key values to query: `by`'s value alone when the index is not sharded,
/// else `value#0` to `value#(shards − 1)`.
pub fn keys(index: &Index, by: &By, shards: u32) -> Vec<String> {
    if index.sharded {
        index::all_shard_keys(by.value(), shards).collect()
    } else {
        vec![by.value().to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(name: &str, partition: &str) -> IndexKeys {
        IndexKeys {
            name: name.into(),
            partition: partition.into(),
            sort: Some(SORT_KEY.into()),
            projection: Projection::All,
        }
    }

    #[test]
    fn the_plain_index_is_one_key() {
        let indexes = [
            keys_of("EventTypeIndex", "eventType"),
            keys_of("ProductIndex", "productId"),
        ];
        let by = By::ProductId("p1".into());
        let index = find("t", &indexes, &by).unwrap();
        assert_eq!(
            index,
            Index {
                name: "ProductIndex".into(),
                partition: "productId".into(),
                sharded: false,
                projection: Projection::All,
            }
        );
        assert_eq!(keys(&index, &by, 8), ["p1"]);
    }

    #[test]
    fn the_sharded_index_is_one_key_per_shard_and_preferred() {
        let indexes = [
            keys_of("EventTypeIndex", "eventType"),
            keys_of("EventTypeShardIndex", "eventTypeShard"),
        ];
        let by = By::EventType("purchase".into());
        let index = find("t", &indexes, &by).unwrap();
        assert_eq!(index.name, "EventTypeShardIndex");
        assert!(index.sharded);
        assert_eq!(
            keys(&index, &by, 3),
            ["purchase#0", "purchase#1", "purchase#2"]
        );
    }

    #[test]
    fn no_index_names_what_the_table_has() {
        let mut other = keys_of("ByUser", "userId");
        other.sort = None;
        let err = find("events", &[other], &By::EventType("view".into())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "table events has no index keyed on eventType or eventTypeShard with sort key \
             eventTimestamp (its indexes: ByUser(userId)); is it the pipeline's event table?"
        );
        let none = find("events", &[], &By::EventType("view".into())).unwrap_err();
        assert_eq!(none.found, "none");
    }

    #[test]
    fn the_projection_is_read_as_described_and_only_all_is_whole() {
        let include = ["sessionId".to_owned(), "eventScore".to_owned()];
        let cases = [
            (Some("ALL"), Projection::All, "ALL", true),
            (Some("KEYS_ONLY"), Projection::KeysOnly, "KEYS_ONLY", false),
            (
                Some("INCLUDE"),
                Projection::Include(include.to_vec()),
                "INCLUDE(sessionId, eventScore)",
                false,
            ),
            (
                Some("SOME_DAY"),
                Projection::Unknown("SOME_DAY".into()),
                "unknown (SOME_DAY)",
                false,
            ),
            (
                None,
                Projection::Unknown("none given".into()),
                "unknown (none given)",
                false,
            ),
        ];
        for (kind, expected, shown, whole) in cases {
            let projection = Projection::from_described(kind, &include);
            assert_eq!(projection, expected, "{kind:?}");
            assert_eq!(projection.to_string(), shown);
            assert_eq!(projection.is_whole(), whole, "{kind:?}");
        }
    }

    #[test]
    fn the_found_index_carries_its_projection() {
        let mut keys_only = keys_of("EventTypeIndex", "eventTypeShard");
        keys_only.projection = Projection::KeysOnly;
        let index = find("t", &[keys_only], &By::EventType("view".into())).unwrap();
        assert_eq!(index.projection, Projection::KeysOnly);
    }
}
