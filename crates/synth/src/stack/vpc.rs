//! Where the function runs when `vpc_subnet_ids` is set: its security group (the stack's,
//! HTTPS out only, unless `vpc_security_group_ids` names others), the endpoints that let it
//! reach DynamoDB and SQS without a NAT gateway (`vpc_create_endpoints`), and the
//! network-interface permissions Lambda needs from its role, scoped as far as IAM allows.
//!
//! The processor calls DynamoDB (BatchWriteItem) and SQS (SendMessageBatch) and nothing
//! else: KMS is called by those services on its behalf, and its logs (with the EMF metrics
//! in them) and X-Ray segments leave through Lambda itself, not the function's network. So
//! two endpoints suffice: a DynamoDB gateway endpoint, free, on the subnets' route tables,
//! and an SQS interface endpoint with private DNS, so the SDK's usual SQS host name resolves
//! to it.

use cfn::resources::ec2::security_group::{Egress, Ingress};
use cfn::resources::ec2::vpc_endpoint::VPCEndpointVpcEndpointType as EndpointType;
use cfn::resources::ec2::{SecurityGroup, VPCEndpoint};
use cfn::resources::lambda::function::VpcConfig;
use cfn::{Expr, Template, Val};
use serde_json::{json, Value};

use super::iam::{self, Grants, Statement};
use super::names::Names;
use super::tags;
use crate::config::Config;

/// HTTPS, the only port the processor's AWS calls use.
const HTTPS: i64 = 443;

/// The function's place in the VPC.
pub struct Placement {
    /// The subnet IDs, as configured.
    subnets: Vec<String>,
    /// The security groups: the configured IDs, or the stack's group.
    security_groups: Vec<Val<String>>,
    /// The function's unqualified ARN, built from its name (the role cannot refer to the
    /// function: the function refers to the role).
    function_arn: Value,
}

impl Placement {
    /// The function's `VpcConfig`.
    pub fn vpc_config(&self) -> VpcConfig {
        VpcConfig {
            subnet_ids: Some(Val::Lit(
                self.subnets.iter().map(|s| Val::from(s.as_str())).collect(),
            )),
            security_group_ids: Some(Val::Lit(self.security_groups.clone())),
            ..VpcConfig::default()
        }
    }

    /// What Lambda does with the function's role to attach it to the VPC, in the form AWS's
    /// Lambda guide documents (configuration-vpc, "Required IAM permissions"): the six
    /// network-interface actions allowed on all resources, and denied when the call comes
    /// from the function's own code. Lambda adds `lambda:SourceFunctionArn` to the requests
    /// made from inside the execution environment and not to the calls it makes itself to
    /// create and delete the interfaces (permissions-source-function-arn), so the Deny
    /// binds the processor's code and leaves Lambda's calls alone.
    ///
    /// The Allow is on `*`: DescribeNetworkInterfaces works only on `*`, and the guide warns
    /// that a DeleteNetworkInterface scoped to resource IDs can leave the function unable to
    /// reach the VPC; the earlier `ec2:Subnet` conditions on Delete/Assign/Unassign are not
    /// condition keys AWS documents for Lambda's calls.
    pub fn grant_network_interfaces(&self, grants: &mut Grants) {
        grants
            .allow(Statement::allow(
                "NetworkInterfacesForLambda",
                iam::NETWORK_INTERFACE_ACTIONS,
                vec![json!("*")],
            ))
            .allow(
                Statement::deny_grantee(
                    "NoNetworkInterfacesFromFunctionCode",
                    iam::NETWORK_INTERFACE_ACTIONS,
                    vec![json!("*")],
                )
                .when(json!({ "ArnEquals": { "lambda:SourceFunctionArn": self.function_arn } })),
            );
    }
}

/// Adds the security group and endpoints the configuration asks for; `None` outside a VPC.
pub fn add(template: &mut Template, config: &Config, names: &Names) -> Option<Placement> {
    if !config.in_vpc() {
        return None;
    }
    let security_groups: Vec<Val<String>> = if config.vpc_security_group_ids.is_empty() {
        // Deleted before the role: CloudFormation deletes the group only once Lambda has
        // released the interfaces that use it, and Lambda releases them with the role's
        // permissions, so the role must outlive the group.
        let keep_role = cfn::ResourceOptions {
            depends_on: vec![iam::PROCESSOR_ROLE_ID.to_owned()],
            ..Default::default()
        };
        let group = template.add_with(
            "ProcessorSecurityGroup",
            function_group(config, names),
            keep_role,
        );
        vec![group.attr_group_id().into()]
    } else {
        config
            .vpc_security_group_ids
            .iter()
            .map(Val::from)
            .collect()
    };
    if config.vpc_create_endpoints {
        add_endpoints(template, config, names, &security_groups);
    }
    Some(Placement {
        subnets: config.vpc_subnet_ids.clone(),
        security_groups,
        function_arn: Expr::sub(format!(
            "arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{}",
            names.function
        ))
        .to_json(),
    })
}

/// The function's own group: no ingress (nothing calls a Lambda function over its
/// network), and HTTPS out to anywhere, which is all its AWS calls need.
fn function_group(config: &Config, names: &Names) -> SecurityGroup {
    let egress = Egress {
        cidr_ip: Some("0.0.0.0/0".into()),
        description: Some("HTTPS to the AWS APIs the processor calls (DynamoDB, SQS)".into()),
        from_port: Some(HTTPS.into()),
        to_port: Some(HTTPS.into()),
        ..Egress::new("tcp")
    };
    SecurityGroup {
        vpc_id: Some(config.vpc_id.as_str().into()),
        security_group_egress: Some(Val::Lit(vec![egress])),
        tags: tags::property(config),
        ..SecurityGroup::new(format!("{}: HTTPS out only, no ingress", names.function))
    }
}

/// The DynamoDB gateway endpoint on the route tables, and the SQS interface endpoint in the
/// function's subnets behind a group that admits HTTPS from the function's groups.
fn add_endpoints(template: &mut Template, config: &Config, names: &Names, from: &[Val<String>]) {
    let vpc_id = config.vpc_id.as_str();
    let dynamodb = VPCEndpoint {
        service_name: Some(Expr::sub("com.amazonaws.${AWS::Region}.dynamodb").into()),
        vpc_endpoint_type: Some(EndpointType::Gateway.into()),
        route_table_ids: Some(Val::Lit(
            config
                .vpc_route_table_ids
                .iter()
                .map(|id| Val::from(id.as_str()))
                .collect(),
        )),
        tags: tags::property(config),
        ..VPCEndpoint::new(vpc_id)
    };
    template.add("DynamoDbEndpoint", dynamodb);

    let ingress: Vec<Ingress> = from
        .iter()
        .map(|group| Ingress {
            source_security_group_id: Some(group.clone()),
            description: Some("HTTPS from the processor function".into()),
            from_port: Some(HTTPS.into()),
            to_port: Some(HTTPS.into()),
            ..Ingress::new("tcp")
        })
        .collect();
    let group = SecurityGroup {
        vpc_id: Some(vpc_id.into()),
        security_group_ingress: Some(Val::Lit(ingress)),
        tags: tags::property(config),
        ..SecurityGroup::new(format!(
            "{}: the SQS endpoint, HTTPS from the function only",
            names.prefix
        ))
    };
    let group = template.add("EndpointSecurityGroup", group);
    let sqs = VPCEndpoint {
        service_name: Some(Expr::sub("com.amazonaws.${AWS::Region}.sqs").into()),
        vpc_endpoint_type: Some(EndpointType::Interface.into()),
        private_dns_enabled: Some(true.into()),
        subnet_ids: Some(Val::Lit(
            config
                .vpc_subnet_ids
                .iter()
                .map(|id| Val::from(id.as_str()))
                .collect(),
        )),
        security_group_ids: Some(Val::Lit(vec![group.attr_group_id().into()])),
        tags: tags::property(config),
        ..VPCEndpoint::new(vpc_id)
    };
    template.add("SqsEndpoint", sqs);
}
