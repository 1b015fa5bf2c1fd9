"""moto's server, with workarounds where moto 5.2.1 differs from AWS in what our stack uses.

1. moto passes an AWS::KMS::Key's CloudFormation `Tags` ([{Key, Value}]) straight to its KMS
   API model, which expects KMS's own spelling ([{TagKey, TagValue}]), and fails the whole
   stack with KeyError 'TagKey'. Real CloudFormation accepts the template as it is, so the fix
   belongs here, not in the template.
2. moto reads an AWS::Lambda::EventSourceMapping's key by the API's spelling, `KMSKeyArn`, and
   drops CloudFormation's `KmsKeyArn`: the mapping of a stack with encrypted filters would
   have no key. It is passed on under the API's name (and, when an update removes it, as the
   empty key that puts AWS's own key back, as UpdateEventSourceMapping takes it).
3. moto's ListEventSourceMappings returns a mapping's FilterCriteria even when they are
   encrypted with a customer managed key; AWS returns them as null there and only
   GetEventSourceMapping shows them (Lambda guide, "Encryption of filter criteria"). The list
   leaves them out here too, so tools that read filters from the list fail on moto as they
   would on AWS.
4. moto's CloudFormation has no AWS::Lambda::Alias (a stack with a gradual deploy_strategy
   fails: the event source mapping's FunctionName, the alias's Ref, resolves to nothing), and
   its AWS::Lambda::Version answers neither `Ref` (the version's ARN) nor `Fn::GetAtt ...
   Version` and is never published again. Both are modelled here over moto's own Lambda
   calls: the version publishes on create and on update (PublishVersion, which returns the
   latest version when neither code nor configuration changed, as on AWS), the alias is
   created, updated and deleted. There is no CodeDeploy behind the alias's UpdatePolicy:
   moto moves the alias at once, and skips AWS::CodeDeploy::* (unsupported) with a warning.

Everything else is moto's own `moto_server`.

Usage: .venv/bin/python tools/moto_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

import json

from moto.awslambda import models as lambda_models
from moto.awslambda import responses as lambda_responses
from moto.kms import models as kms_models
from moto.server import main

_create_key = kms_models.Key.create_from_cloudformation_json.__func__


def _create_key_with_cfn_tags(cls, resource_name, cloudformation_json, *args, **kwargs):
    properties = dict(cloudformation_json.get("Properties", {}))
    if "Tags" in properties:
        properties["Tags"] = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties["Tags"]
        ]
    fixed = dict(cloudformation_json, Properties=properties)
    return _create_key(cls, resource_name, fixed, *args, **kwargs)


kms_models.Key.create_from_cloudformation_json = classmethod(_create_key_with_cfn_tags)

_Mapping = lambda_models.EventSourceMapping
_create_mapping = _Mapping.create_from_cloudformation_json.__func__
_update_mapping = _Mapping.update_from_cloudformation_json.__func__


def _with_api_key_name(cloudformation_json, removed_means_none):
    properties = dict(cloudformation_json.get("Properties", {}))
    if "KmsKeyArn" in properties:
        properties["KMSKeyArn"] = properties.pop("KmsKeyArn")
    elif removed_means_none:
        properties["KMSKeyArn"] = ""
    return dict(cloudformation_json, Properties=properties)


def _create_mapping_with_key(cls, resource_name, cloudformation_json, *args, **kwargs):
    fixed = _with_api_key_name(cloudformation_json, removed_means_none=False)
    return _create_mapping(cls, resource_name, fixed, *args, **kwargs)


def _update_mapping_with_key(cls, *args, cloudformation_json, **kwargs):
    fixed = _with_api_key_name(cloudformation_json, removed_means_none=True)
    return _update_mapping(cls, *args, cloudformation_json=fixed, **kwargs)


_Mapping.create_from_cloudformation_json = classmethod(_create_mapping_with_key)
_Mapping.update_from_cloudformation_json = classmethod(_update_mapping_with_key)

_list_mappings = lambda_responses.LambdaResponse.list_event_source_mappings


def _list_mappings_as_aws(self):
    listed = json.loads(_list_mappings(self))
    for mapping in listed.get("EventSourceMappings", []):
        if mapping.get("KMSKeyArn"):
            mapping.pop("FilterCriteria", None)
    return json.dumps(listed)


lambda_responses.LambdaResponse.list_event_source_mappings = _list_mappings_as_aws


class _Version(lambda_models.CloudFormationModel):
    """AWS::Lambda::Version: published on create and on update; kept on deletion, as the
    template's UpdateReplacePolicy keeps replaced versions (and deleting the function deletes
    them all)."""

    # moto's model registry files a model under the service its module names.
    __module__ = "moto.awslambda.gradual_deploys"

    def __init__(self, function):
        self.function = function

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Version"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr in ("Version", "FunctionArn")

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Version":
            return str(self.function.version)
        if attribute_name == "FunctionArn":
            return self.function.function_arn
        raise NotImplementedError(attribute_name)

    @property
    def physical_resource_id(self):
        return f"{self.function.function_arn.rsplit(':', 1)[0]}:{self.function.version}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = lambda_models.lambda_backends[account_id][region_name]
        function = backend.publish_version(
            properties["FunctionName"], properties.get("Description", "")
        )
        return cls(function)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        pass


class _Alias(lambda_models.CloudFormationModel):
    """AWS::Lambda::Alias over moto's alias calls; its Ref is the alias's ARN."""

    __module__ = "moto.awslambda.gradual_deploys"

    def __init__(self, alias, function_name):
        self.alias = alias
        self.function_name = function_name

    @staticmethod
    def cloudformation_type():
        return "AWS::Lambda::Alias"

    @staticmethod
    def cloudformation_name_type():
        return ""

    @classmethod
    def has_cfn_attr(cls, attr):
        return attr == "AliasArn"

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "AliasArn":
            return self.alias.arn
        raise NotImplementedError(attribute_name)

    @property
    def physical_resource_id(self):
        return self.alias.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        p = cloudformation_json["Properties"]
        backend = lambda_models.lambda_backends[account_id][region_name]
        alias = backend.create_alias(
            p["Name"], p["FunctionName"], str(p["FunctionVersion"]), p.get("Description", ""), None
        )
        return cls(alias, p["FunctionName"])

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        p = cloudformation_json["Properties"]
        backend = lambda_models.lambda_backends[account_id][region_name]
        alias = backend.update_alias(
            p["Name"], p["FunctionName"], str(p["FunctionVersion"]), p.get("Description", ""), None
        )
        return cls(alias, p["FunctionName"])

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):
        # The physical ID is the alias's ARN, ...:function:NAME:ALIAS; the properties may
        # still hold unresolved references here.
        function_name, name = resource_name.split(":")[-2:]
        backend = lambda_models.lambda_backends[account_id][region_name]
        try:
            backend.delete_alias(name, function_name)
        except lambda_models.UnknownFunctionException:
            pass  # deleted with its function, as on AWS


# moto's own Version model would win the type lookup; ours replaces it there.
lambda_models.LambdaVersion.cloudformation_type = staticmethod(lambda: "AWS::Lambda::Version (moto)")

if __name__ == "__main__":
    main()
