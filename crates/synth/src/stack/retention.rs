//! What happens to resources when the stack is deleted or they are replaced.
//!
//! `retain_data_on_delete` keeps exactly what holds the pipeline's data once the pipeline is
//! gone: the tables (the events and the aggregates), the failure bucket (batches not yet
//! redriven), the event archive, and the key they are encrypted with (without the key a kept
//! table or bucket cannot be read).
//! Everything else goes with the stack: the stream only buffers records for the function,
//! the queue's dead letters are guarded by `make destroy` (it refuses while any wait, as it
//! does while the failure bucket holds batches not yet redriven), the log group and the
//! alert topic's key are the pipeline's own. Kept resources with fixed names would also stop
//! the stack from being created again; the tables' names are the ones that do, and `make
//! deploy` says what to do about them (the buckets' names are generated, so a new stack gets
//! new ones).

use cfn::{Policy, ResourceOptions};

use crate::config::Config;

/// For the resources that hold data (the tables, the buckets, their key): `Retain` when the configuration
/// keeps data on delete (prod), else `Delete`. Either way the policy is written out, so a
/// reviewer never has to remember the default.
pub fn data(config: &Config) -> ResourceOptions {
    let policy = if config.retain_data_on_delete {
        Policy::Retain
    } else {
        Policy::Delete
    };
    written_out(policy)
}

/// For the stateful resources that go with the stack whatever the configuration (the
/// stream, the queue, the log group, the alerts key): an explicit `Delete`.
pub fn with_the_stack() -> ResourceOptions {
    written_out(Policy::Delete)
}

fn written_out(policy: Policy) -> ResourceOptions {
    ResourceOptions {
        deletion_policy: Some(policy),
        update_replace_policy: Some(policy),
        ..Default::default()
    }
}
