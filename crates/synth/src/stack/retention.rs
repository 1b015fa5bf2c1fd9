//! What happens to stateful resources when the stack is deleted or they are replaced.

use cfn::{Policy, ResourceOptions};

use crate::config::Config;

/// `Retain` when the configuration keeps data on delete (prod), else an explicit `Delete`:
/// either way the policy is written out, so a reviewer never has to remember the default.
pub fn options(config: &Config) -> ResourceOptions {
    let policy = if config.retain_data_on_delete {
        Policy::Retain
    } else {
        Policy::Delete
    };
    ResourceOptions {
        deletion_policy: Some(policy),
        update_replace_policy: Some(policy),
        ..Default::default()
    }
}
