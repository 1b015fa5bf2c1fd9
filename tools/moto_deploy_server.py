"""tools/moto_server.py (moto with its KMS tags fix), plus two more fixes for the deploy targets.

moto 5.2.1 applies an executed change set's resources but never recomputes the stack's
outputs, so a stack made or updated by `aws cloudformation deploy` (which works through change
sets) describes with no Outputs, or with the outputs of the template before. Real
CloudFormation recomputes them, as moto itself does for create-stack and update-stack, so the
fix belongs in the stand-in: after a change set is applied, the stack takes the change set's
template, parameters and the outputs that follow from them.

`aws cloudformation deploy --s3-bucket`, which `make deploy` uses for a template over
CloudFormation's 51,200-byte inline limit, passes moto a path-style URL on the endpoint
(http://127.0.0.1:PORT/BUCKET/KEY); moto reads a path-style URL only from `localhost` and
takes the first label of any other host for the bucket ("127"). A loopback IP endpoint is
read as path-style here too, as AWS reads path-style URLs.

A resource removed by one stack update and added again by a later one (make deploy replaces
an event source mapping so: docs/mapping-replacement.md) is deleted, but moto keeps the
deleted object under its logical ID and hands it back instead of creating the resource again:
the second update creates nothing and `Ref` names the deleted resource. CloudFormation creates
it; here an update forgets the resources it removed.

Usage: .venv/bin/python tools/moto_deploy_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

import ipaddress
from urllib.parse import urlparse

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation import utils as cfn_utils

import moto_server  # noqa: F401  (applies the KMS tags fix on import)

_apply = cfn_models.ChangeSet.apply


def _apply_with_outputs(self):
    _apply(self)
    stack = self.stack
    stack.template = self.template
    stack._parse_template()
    if self.parameters:
        stack.parameters = self.parameters
    stack.output_map = stack._create_output_map()


cfn_models.ChangeSet.apply = _apply_with_outputs

_from_s3_url = cfn_utils.get_stack_from_s3_url


def _from_s3_url_on_ip(template_url, *args, **kwargs):
    parts = urlparse(template_url)
    try:
        ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        return _from_s3_url(template_url, *args, **kwargs)
    path_style = parts._replace(netloc=f"localhost:{parts.port}" if parts.port else "localhost")
    return _from_s3_url(path_style.geturl(), *args, **kwargs)


for _module in (cfn_utils, cfn_models, cfn_responses):
    _module.get_stack_from_s3_url = _from_s3_url_on_ip

_update = cfn_parsing.ResourceMap.update


def _update_forgetting_removed(self, template, parameters=None):
    removed = self.build_resource_diff(template, parameters)["Remove"]
    _update(self, template, parameters)
    for logical_id in removed:
        self._parsed_resources.pop(logical_id, None)


cfn_parsing.ResourceMap.update = _update_forgetting_removed

if __name__ == "__main__":
    moto_server.main()
