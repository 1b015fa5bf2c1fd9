//! What the moto tests of local-runner share: testkit's moto starter (compiled in:
//! local-runner has no dev-dependency on testkit), an SDK configuration for an endpoint, and
//! a fixture stack created on moto.

#[path = "../../../testkit/src/moto.rs"]
#[allow(dead_code)]
pub mod moto;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::types::{Capability, StackStatus};

/// An SDK configuration for `endpoint` with dummy credentials, in us-east-1.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_kinesis::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// Creates stack `name` from `template` on moto (with the processor's code placeholder in
/// bucket `code`, which moto keeps: local-runner runs the processor in-process) and returns
/// its outputs once it is complete.
pub async fn create_stack(
    moto: &moto::Moto,
    config: &aws_config::SdkConfig,
    name: &str,
    template: &str,
) -> BTreeMap<String, String> {
    moto::put_object(moto.port, "code", "processor.zip", b"PK\x05\x06placeholder")
        .expect("upload the code");
    let cfn = aws_sdk_cloudformation::Client::new(config);
    cfn.create_stack()
        .stack_name(name)
        .template_body(template)
        .capabilities(Capability::CapabilityIam)
        .send()
        .await
        .expect("create-stack");
    for _ in 0..120 {
        let described = cfn
            .describe_stacks()
            .stack_name(name)
            .send()
            .await
            .expect("describe-stacks");
        let stack = &described.stacks()[0];
        match stack.stack_status() {
            Some(StackStatus::CreateComplete) => {
                return stack
                    .outputs()
                    .iter()
                    .filter_map(|o| Some((o.output_key()?.into(), o.output_value()?.into())))
                    .collect()
            }
            Some(StackStatus::CreateInProgress) => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            other => panic!(
                "stack {name} ended {other:?}: {:?}",
                stack.stack_status_reason()
            ),
        }
    }
    panic!("stack {name} was not created within 30 s");
}
