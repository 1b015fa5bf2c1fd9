//! How many write shards to read: the one number DescribeTable cannot tell.
//!
//! The index's key schema says *whether* it is sharded (`eventTypeShard` rather than
//! `eventType`), not over how many values. That number is the function's
//! `INDEX_WRITE_SHARDS`; reading it takes `lambda:GetFunctionConfiguration`, which
//! `EventReaderPolicy` does not grant (it grants the table and nothing else). So, in order:
//! `--shards N` when given; else the function's environment when the caller may read it;
//! else every shard number the stack allows ([`MAX_SHARDS`], 100). The last is always
//! right, since shards past N are simply empty, and costs up to 100 small Query calls
//! instead of N; a note on stderr says so, and how to avoid it.

use aws_config::SdkConfig;
use contract::index::MAX_SHARDS;

/// Where the shard count came from, for the note on stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The index is not sharded: one key.
    NotSharded,
    /// `--shards`.
    Flag,
    /// The function's `INDEX_WRITE_SHARDS`.
    Function(String),
    /// Not known: every shard number allowed, and why.
    AllPossible(String),
}

/// The shard count to read and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shards {
    /// Partition key values per queried value.
    pub count: u32,
    /// Where `count` came from.
    pub source: Source,
}

impl Shards {
    /// A note for stderr when the count is a fallback; `None` otherwise.
    pub fn note(&self) -> Option<String> {
        match &self.source {
            Source::AllPossible(why) => Some(format!(
                "query: {why}; querying all {MAX_SHARDS} possible shards (those past the \
                 stack's dynamodb_index_write_shards are empty); pass --shards N to query N"
            )),
            _ => None,
        }
    }
}

/// The count for an index that is `sharded` or not, from `flag` (`--shards`) or the
/// environment of `function` (when the stack named one).
pub async fn resolve(
    config: &SdkConfig,
    sharded: bool,
    flag: Option<u32>,
    function: Option<&str>,
) -> Shards {
    let (count, source) = match (sharded, flag, function) {
        (false, _, _) => (1, Source::NotSharded),
        (true, Some(n), _) => (n, Source::Flag),
        (true, None, None) => (
            MAX_SHARDS,
            Source::AllPossible(
                "no function to read INDEX_WRITE_SHARDS from (--table-name)".into(),
            ),
        ),
        (true, None, Some(function)) => match from_function(config, function).await {
            Ok(n) => (n, Source::Function(function.to_owned())),
            Err(why) => (MAX_SHARDS, Source::AllPossible(why)),
        },
    };
    Shards { count, source }
}

async fn from_function(config: &SdkConfig, function: &str) -> Result<u32, String> {
    let found = deployed_stack::function::Function::read(config, function)
        .await
        .map_err(|e| format!("cannot read INDEX_WRITE_SHARDS: {e}"))?;
    let value = found.env(contract::env::INDEX_WRITE_SHARDS);
    contract::index::write_shards_of(value).ok_or_else(|| {
        format!(
            "function {function}: environment variable {} must be a whole number from 1 to \
             {MAX_SHARDS}, got {:?}",
            contract::env::INDEX_WRITE_SHARDS,
            value.unwrap_or_default()
        )
    })
}

/// `--shards`: a whole number from 1 to 100.
pub fn flag(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_SHARDS).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be a whole number from 1 to {MAX_SHARDS} (the stack's \
             dynamodb_index_write_shards), got {text:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_1_to_100() {
        assert_eq!(flag("100"), Ok(100));
        for bad in ["0", "101", "x", "-3"] {
            assert!(
                flag(bad).unwrap_err().ends_with(&format!("got {bad:?}")),
                "{bad}"
            );
        }
    }

    #[test]
    fn only_a_fallback_leaves_a_note() {
        let flagged = Shards {
            count: 8,
            source: Source::Flag,
        };
        assert_eq!(flagged.note(), None);
        let all = Shards {
            count: 100,
            source: Source::AllPossible("why".into()),
        };
        assert_eq!(
            all.note().unwrap(),
            "query: why; querying all 100 possible shards (those past the stack's \
             dynamodb_index_write_shards are empty); pass --shards N to query N"
        );
    }
}
