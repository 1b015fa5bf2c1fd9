"""tools/moto_server.py (moto with its KMS tags fix), plus one more fix for the deploy targets.

moto 5.2.1 applies an executed change set's resources but never recomputes the stack's
outputs, so a stack made or updated by `aws cloudformation deploy` (which works through change
sets) describes with no Outputs, or with the outputs of the template before. Real
CloudFormation recomputes them, as moto itself does for create-stack and update-stack, so the
fix belongs in the stand-in: after a change set is applied, the stack takes the change set's
template, parameters and the outputs that follow from them.

Usage: .venv/bin/python tools/moto_deploy_server.py -H 127.0.0.1 -p PORT   (moto_server's flags)
"""

from moto.cloudformation import models as cfn_models

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

if __name__ == "__main__":
    moto_server.main()
