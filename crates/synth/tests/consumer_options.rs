//! The consumer options of issue 12 as a deployer sees them in the template: event filters
//! on the mapping, an enhanced fan-out consumer with exactly its grant, a starting
//! timestamp, and VPC placement with its security group, endpoints and network-interface
//! grants; and the refusals that name the keys.

mod common;

use common::{stderr, synth};

use serde_json::{json, Value};
use synth::config::Config;

/// The template for the default configuration plus `--set` arguments.
fn template(sets: &[&str]) -> Value {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let config = Config::load(None, None, &sets).expect("valid configuration");
    synth::stack::build(&config)
        .to_document()
        .expect("synthesizes")
}

fn properties<'d>(doc: &'d Value, id: &str) -> &'d Value {
    &doc["Resources"][id]["Properties"]
}

/// The processor role's statements.
fn role_statements(doc: &Value) -> Vec<Value> {
    properties(doc, "ProcessorRole")["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .expect("statements")
        .clone()
}

fn sids(statements: &[Value]) -> Vec<String> {
    statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap().to_owned())
        .collect()
}

const SUBNETS: &str = r#"vpc_subnet_ids=["subnet-0123456789abcdef0","subnet-0a1b2c3d"]"#;
const VPC: &str = "vpc_id=vpc-0123456789abcdef0";

#[test]
fn filters_become_the_mappings_filter_criteria_in_order() {
    let doc = template(&[
        r#"lambda_filter_event_types=["purchase","add_to_cart"]"#,
        r#"lambda_filter_patterns=["{ \"data\": { \"eventScore\": [ { \"numeric\": [\">=\", 50] } ] } }"]"#,
    ]);
    assert_eq!(
        properties(&doc, "StreamMapping")["FilterCriteria"],
        json!({"Filters": [
            {"Pattern": r#"{"data":{"eventType":["purchase","add_to_cart"]}}"#},
            {"Pattern": r#"{"data":{"eventScore":[{"numeric":[">=",50]}]}}"#},
        ]})
    );
    let plain = template(&[]);
    assert!(properties(&plain, "StreamMapping")
        .get("FilterCriteria")
        .is_none());
}

#[test]
fn enhanced_fan_out_reads_through_a_consumer_granted_exactly_that() {
    let shared = template(&[]);
    let doc = template(&["kinesis_consumer=enhanced-fan-out"]);
    assert_eq!(
        doc["Resources"]["ProcessorConsumer"],
        json!({"Type": "AWS::Kinesis::StreamConsumer", "Properties": {
            "ConsumerName": "retail-events-dev-processor",
            "StreamARN": {"Fn::GetAtt": ["EventStream", "Arn"]},
        }})
    );
    assert_eq!(
        properties(&doc, "StreamMapping")["EventSourceArn"],
        json!({"Fn::GetAtt": ["ProcessorConsumer", "ConsumerARN"]})
    );
    // The role: shared mode's statements, unchanged, and one more on the consumer only.
    let before = role_statements(&shared);
    let after = role_statements(&doc);
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(
        after[..2],
        before[..2],
        "the stream's read and key statements"
    );
    assert_eq!(
        after[2],
        json!({"Sid": "SubscribeThroughConsumer", "Effect": "Allow",
               "Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
               "Resource": {"Fn::GetAtt": ["ProcessorConsumer", "ConsumerARN"]}})
    );
    assert_eq!(after[3..], before[2..]);
    // Nothing else in the stack changes but the dashboard, which charts the consumer's lag
    // instead of GetRecords' iterator age.
    let changed: Vec<&String> = doc["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(id, body)| shared["Resources"].get(*id) != Some(*body))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        changed,
        [
            "ProcessorConsumer",
            "ProcessorRole",
            "StreamMapping",
            "PipelineDashboard"
        ]
    );
}

#[test]
fn at_timestamp_starts_the_mapping_there_and_is_refused_alone() {
    let doc = template(&[
        "lambda_starting_position=AT_TIMESTAMP",
        "lambda_starting_position_timestamp=1764633600",
    ]);
    let mapping = properties(&doc, "StreamMapping");
    assert_eq!(mapping["StartingPosition"], "AT_TIMESTAMP");
    assert_eq!(mapping["StartingPositionTimestamp"], 1_764_633_600.0);
    assert!(properties(&template(&[]), "StreamMapping")
        .get("StartingPositionTimestamp")
        .is_none());

    let output = synth(&["--set", "lambda_starting_position=AT_TIMESTAMP"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "printed a template");
    assert_eq!(
        stderr(&output),
        "error: lambda_starting_position_timestamp must be set to the time to start reading \
         from, in epoch seconds, when lambda_starting_position is AT_TIMESTAMP, got 0 (not \
         set)\n"
    );
}

#[test]
fn a_vpc_function_gets_its_own_https_only_group_and_scoped_interface_grants() {
    let doc = template(&[SUBNETS, VPC]);
    let group = properties(&doc, "ProcessorSecurityGroup");
    assert_eq!(group["VpcId"], "vpc-0123456789abcdef0");
    assert_eq!(
        group["SecurityGroupEgress"],
        json!([{"CidrIp": "0.0.0.0/0", "Description": "HTTPS to the AWS APIs the processor calls (DynamoDB, SQS)",
                "FromPort": 443, "IpProtocol": "tcp", "ToPort": 443}])
    );
    assert!(group.get("SecurityGroupIngress").is_none());
    let group_id = json!({"Fn::GetAtt": ["ProcessorSecurityGroup", "GroupId"]});
    assert_eq!(
        properties(&doc, "ProcessorFunction")["VpcConfig"],
        json!({"SecurityGroupIds": [group_id.clone()],
               "SubnetIds": ["subnet-0123456789abcdef0", "subnet-0a1b2c3d"]})
    );
    let statements = role_statements(&doc);
    let network: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Sid"].as_str().unwrap().contains("NetworkInterfaces"))
        .collect();
    let actions = json!([
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses"
    ]);
    let function_arn = json!({"Fn::Sub":
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:retail-events-dev-processor"});
    // AWS's form (Lambda guide, configuration-vpc): the six actions Lambda calls, allowed on
    // all resources, denied to the function's own code.
    assert_eq!(
        network,
        [
            &json!({"Sid": "NetworkInterfacesForLambda", "Effect": "Allow",
                    "Action": actions, "Resource": "*"}),
            &json!({"Sid": "NoNetworkInterfacesFromFunctionCode", "Effect": "Deny",
                    "Action": actions, "Resource": "*",
                    "Condition": {"ArnEquals": {"lambda:SourceFunctionArn": function_arn}}}),
        ]
    );
    // The role outlives the group: the group waits for Lambda to release its interfaces,
    // which Lambda does with the role.
    assert_eq!(
        doc["Resources"]["ProcessorSecurityGroup"]["DependsOn"],
        json!(["ProcessorRole"])
    );
    // checkov's "function in a VPC" check now passes on its own: its skip is gone, the
    // others stay.
    let skipped = |doc: &Value| -> Vec<String> {
        doc["Resources"]["ProcessorFunction"]["Metadata"]["checkov"]["skip"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(skipped(&doc), ["CKV_AWS_116", "CKV_AWS_272", "CKV_AWS_115"]);
    assert_eq!(
        skipped(&template(&[])),
        ["CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_272", "CKV_AWS_115"]
    );
}

#[test]
fn given_groups_are_used_as_they_are_and_no_group_is_created() {
    let doc = template(&[
        SUBNETS,
        r#"vpc_security_group_ids=["sg-0123456789abcdef0"]"#,
    ]);
    assert!(doc["Resources"].get("ProcessorSecurityGroup").is_none());
    assert_eq!(
        properties(&doc, "ProcessorFunction")["VpcConfig"]["SecurityGroupIds"],
        json!(["sg-0123456789abcdef0"])
    );
    // Nothing of the role names a group: the interfaces' grant is on `*`, the Deny on the
    // function's own calls.
    let statements = role_statements(&doc);
    assert!(!serde_json::to_string(&statements)
        .unwrap()
        .contains("security-group"));
}

#[test]
fn endpoints_reach_dynamodb_and_sqs_without_a_nat_gateway() {
    let doc = template(&[
        SUBNETS,
        VPC,
        r#"vpc_route_table_ids=["rtb-0123456789abcdef0"]"#,
        "vpc_create_endpoints=true",
    ]);
    let dynamodb = properties(&doc, "DynamoDbEndpoint");
    assert_eq!(dynamodb["VpcEndpointType"], "Gateway");
    assert_eq!(
        dynamodb["ServiceName"],
        json!({"Fn::Sub": "com.amazonaws.${AWS::Region}.dynamodb"})
    );
    assert_eq!(dynamodb["RouteTableIds"], json!(["rtb-0123456789abcdef0"]));
    let sqs = properties(&doc, "SqsEndpoint");
    assert_eq!(sqs["VpcEndpointType"], "Interface");
    assert_eq!(sqs["PrivateDnsEnabled"], true);
    assert_eq!(
        sqs["SubnetIds"],
        json!(["subnet-0123456789abcdef0", "subnet-0a1b2c3d"])
    );
    assert_eq!(
        sqs["SecurityGroupIds"],
        json!([{"Fn::GetAtt": ["EndpointSecurityGroup", "GroupId"]}])
    );
    assert_eq!(
        properties(&doc, "EndpointSecurityGroup")["SecurityGroupIngress"],
        json!([{"Description": "HTTPS from the processor function", "FromPort": 443,
                "IpProtocol": "tcp",
                "SourceSecurityGroupId": {"Fn::GetAtt": ["ProcessorSecurityGroup", "GroupId"]},
                "ToPort": 443}])
    );
    let added: Vec<&String> = doc["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|id| template(&[])["Resources"].get(*id).is_none())
        .collect();
    assert_eq!(
        added,
        [
            "ProcessorSecurityGroup",
            "DynamoDbEndpoint",
            "EndpointSecurityGroup",
            "SqsEndpoint"
        ]
    );
    assert_eq!(
        sids(&role_statements(&doc))
            .iter()
            .filter(|s| s.contains("Network"))
            .count(),
        2
    );
}

#[test]
fn malformed_ids_and_inconsistent_vpc_keys_exit_2_naming_the_keys() {
    let cases: [(&[&str], &str); 3] = [
        (
            &["--set", r#"vpc_subnet_ids=["subnet-12345"]"#],
            "error: vpc_subnet_ids must contain only IDs like subnet-0123456789abcdef0 \
             (subnet- and 8 or 17 hex digits), got \"subnet-12345\" (from --set \
             vpc_subnet_ids=[\"subnet-12345\"])\n",
        ),
        (
            &[
                "--set",
                r#"vpc_security_group_ids=["sg-0123456789abcdef0"]"#,
            ],
            "error: vpc_security_group_ids must stay unset while vpc_subnet_ids is empty (the \
             function runs in no VPC); list the subnets too, got [\"sg-0123456789abcdef0\"] \
             (from --set vpc_security_group_ids=[\"sg-0123456789abcdef0\"])\n",
        ),
        (
            &[
                "--set",
                SUBNETS,
                "--set",
                "vpc_create_endpoints=true",
                "--set",
                VPC,
            ],
            "error: vpc_route_table_ids must list the route tables of vpc_subnet_ids when \
             vpc_create_endpoints is true (the DynamoDB gateway endpoint is added to them), \
             got []\n",
        ),
    ];
    for (args, expected) in cases {
        let output = synth(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?} printed a template");
        assert_eq!(stderr(&output), expected, "{args:?}");
    }
}
