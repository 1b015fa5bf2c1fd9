"""moto's server, with a workaround for a moto bug that stops our stack from creating on it.

moto 5.2.1 passes an AWS::KMS::Key's CloudFormation `Tags` ([{Key, Value}]) straight to its
KMS API model, which expects KMS's own spelling ([{TagKey, TagValue}]), and fails the whole
stack with KeyError 'TagKey'. Real CloudFormation accepts the template as it is, so the fix
belongs here, not in the template. Everything else is moto's own `moto_server`.

Usage: .venv/bin/python tools/moto_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

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

if __name__ == "__main__":
    main()
