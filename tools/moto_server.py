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

if __name__ == "__main__":
    main()
