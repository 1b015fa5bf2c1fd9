//! The generated resource types serialize as CloudFormation expects and carry their
//! schema facts.

use cfn::resources::dynamodb::table::{
    AttributeDefinition, AttributeDefinitionAttributeType, KeySchema,
};
use cfn::resources::dynamodb::Table;
use cfn::resources::kinesis::stream::{
    StreamEncryption, StreamEncryptionEncryptionType, StreamModeDetails,
    StreamModeDetailsStreamMode,
};
use cfn::resources::kinesis::Stream;
use cfn::resources::lambda::function::{Code, FunctionArchitectures};
use cfn::resources::lambda::Function;
use cfn::{Expr, Resource, Tag, Template};
use serde_json::json;

#[test]
fn a_kinesis_stream_serializes_to_its_cloudformation_properties() {
    let stream = Stream {
        shard_count: Some(2.into()),
        stream_encryption: Some(StreamEncryption::new(
            StreamEncryptionEncryptionType::Kms,
            "alias/aws/kinesis",
        )),
        stream_mode_details: Some(StreamModeDetails::new(
            StreamModeDetailsStreamMode::OnDemand,
        )),
        tags: Some(vec![Tag::new("app", "pipeline")].into()),
        ..Stream::default()
    };
    assert_eq!(
        serde_json::to_value(&stream).unwrap(),
        json!({
            "ShardCount": 2,
            "StreamEncryption": { "EncryptionType": "KMS", "KeyId": "alias/aws/kinesis" },
            "StreamModeDetails": { "StreamMode": "ON_DEMAND" },
            "Tags": [{ "Key": "app", "Value": "pipeline" }]
        })
    );
}

#[test]
fn properties_take_intrinsics_as_well_as_literals() {
    let code = Code {
        zip_file: Some("exports.handler = 1".into()),
        ..Code::default()
    };
    let function = Function {
        architectures: Some(vec![FunctionArchitectures::Arm64.into()].into()),
        memory_size: Some(Expr::Ref("Memory".into()).into()),
        ..Function::new(code, "arn:aws:iam::1:role/r")
    };
    assert_eq!(
        serde_json::to_value(&function).unwrap(),
        json!({
            "Architectures": ["arm64"],
            "Code": { "ZipFile": "exports.handler = 1" },
            "MemorySize": { "Ref": "Memory" },
            "Role": "arn:aws:iam::1:role/r"
        })
    );
}

#[test]
fn a_handle_names_its_attributes_with_get_att() {
    let mut template = Template::new("attributes");
    let stream = template.add("S", Stream::default());
    assert_eq!(
        serde_json::to_value(stream.attr_arn()).unwrap(),
        json!({ "Fn::GetAtt": ["S", "Arn"] })
    );
}

#[test]
fn a_dynamodb_table_is_replaced_when_its_key_schema_or_name_changes() {
    let create_only = <Table as Resource>::INFO.create_only;
    assert!(create_only.contains(&"KeySchema"), "{create_only:?}");
    assert!(create_only.contains(&"TableName"), "{create_only:?}");
    let table = Table {
        attribute_definitions: Some(
            vec![AttributeDefinition::new(
                "pk",
                AttributeDefinitionAttributeType::S,
            )]
            .into(),
        ),
        ..Table::new(vec![KeySchema::new("HASH", "pk")])
    };
    assert_eq!(
        serde_json::to_value(&table).unwrap(),
        json!({
            "AttributeDefinitions": [{ "AttributeName": "pk", "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": "pk", "KeyType": "HASH" }]
        })
    );
}

#[test]
fn type_info_finds_generated_types_by_name() {
    let info =
        cfn::resources::type_info("AWS::Lambda::Function").expect("Lambda functions are generated");
    assert_eq!(info.type_name, "AWS::Lambda::Function");
    assert!(info.attributes.contains(&"Arn"));
    assert!(info.attributes.contains(&"SnapStartResponse.ApplyOn"));
    assert!(cfn::resources::type_info("AWS::EC2::Instance").is_none());
    // crates/cfn-codegen/resource-types.txt: 25, then a Lambda version and alias and
    // CodeDeploy's application and deployment group for gradual deploys.
    assert_eq!(cfn::resources::ALL.len(), 29);
}
