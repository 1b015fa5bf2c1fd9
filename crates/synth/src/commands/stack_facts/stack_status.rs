//! `synth stack-facts updatable --stack-name NAME STATUS`: whether the stack can take a
//! change now, and which kind of change set makes it.

use clap::Args;

use super::Answer;

/// Whether the stack can change now: prints CREATE or UPDATE, or exits 1 saying why not.
///
/// Prints the change-set type that changes a stack in STATUS (CREATE when there is no stack
/// yet or it awaits its first change set, REVIEW_IN_PROGRESS; UPDATE otherwise), or exits 1
/// saying why it cannot change now and what to do.
///
/// STATUS is what `aws cloudformation describe-stacks --query 'Stacks[0].StackStatus'
/// --output text` printed, or empty when there is no such stack. Refused: ROLLBACK_COMPLETE
/// (its creation failed; it can only be deleted) and every other *_IN_PROGRESS status.
#[derive(Debug, Args)]
pub struct UpdatableArgs {
    /// The stack's name, for the message.
    #[arg(long, value_name = "NAME")]
    pub stack_name: String,

    /// The stack's status, e.g. UPDATE_COMPLETE; empty or absent when there is no stack.
    #[arg(value_name = "STATUS", default_value = "")]
    pub status: String,
}

/// The change-set type that changes a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSetType {
    /// No stack yet (or one awaiting its first change set).
    Create,
    /// An existing stack.
    Update,
}

impl ChangeSetType {
    /// The word `create-change-set --change-set-type` takes.
    pub fn word(self) -> &'static str {
        match self {
            ChangeSetType::Create => "CREATE",
            ChangeSetType::Update => "UPDATE",
        }
    }
}

/// Why a stack cannot be changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The text is not a stack status at all (exit 2).
    NotAStatus(String),
    /// The stack cannot take a change now; the message says what to do (exit 1).
    NotUpdatable(String),
}

/// Prints the change-set type, or refuses.
pub fn run(args: &UpdatableArgs) -> Result<Answer, String> {
    match change_set_type(&args.stack_name, &args.status) {
        Ok(kind) => Ok(Answer::Print(format!("{}\n", kind.word()))),
        Err(Refusal::NotUpdatable(message)) => Ok(Answer::No(Some(message))),
        Err(Refusal::NotAStatus(message)) => Err(message),
    }
}

/// The change-set type for a stack in `status` (empty: no stack), or why it cannot change.
pub fn change_set_type(stack: &str, status: &str) -> Result<ChangeSetType, Refusal> {
    let status = status.trim();
    if !status.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        return Err(Refusal::NotAStatus(format!(
            "STATUS must be a CloudFormation stack status such as UPDATE_COMPLETE, or empty \
             when there is no stack; got {status:?}"
        )));
    }
    match status {
        "" | "REVIEW_IN_PROGRESS" => Ok(ChangeSetType::Create),
        "ROLLBACK_COMPLETE" => Err(Refusal::NotUpdatable(format!(
            "stack {stack} is ROLLBACK_COMPLETE: its creation failed and it cannot be updated; \
             run make destroy, then try again"
        ))),
        _ if status.ends_with("_IN_PROGRESS") => Err(Refusal::NotUpdatable(format!(
            "stack {stack} is {status}; wait until that operation finishes"
        ))),
        _ => Ok(ChangeSetType::Update),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_stack_or_one_in_review_is_created() {
        for status in ["", "REVIEW_IN_PROGRESS", " \n"] {
            assert_eq!(
                change_set_type("s", status),
                Ok(ChangeSetType::Create),
                "{status:?}"
            );
        }
    }

    #[test]
    fn settled_stacks_are_updated() {
        for status in [
            "CREATE_COMPLETE",
            "UPDATE_COMPLETE",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
            "UPDATE_COMPLETE\n",
        ] {
            assert_eq!(
                change_set_type("s", status),
                Ok(ChangeSetType::Update),
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_failed_creation_is_refused_saying_to_destroy_it() {
        assert_eq!(
            change_set_type("retail-events-dev", "ROLLBACK_COMPLETE"),
            Err(Refusal::NotUpdatable(
                "stack retail-events-dev is ROLLBACK_COMPLETE: its creation failed and it cannot \
                 be updated; run make destroy, then try again"
                    .into()
            ))
        );
    }

    #[test]
    fn operations_in_progress_are_waited_for() {
        for status in [
            "CREATE_IN_PROGRESS",
            "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "DELETE_IN_PROGRESS",
            "UPDATE_ROLLBACK_IN_PROGRESS",
        ] {
            assert_eq!(
                change_set_type("s", status),
                Err(Refusal::NotUpdatable(format!(
                    "stack s is {status}; wait until that operation finishes"
                )))
            );
        }
    }

    #[test]
    fn text_that_is_not_a_status_is_bad_input() {
        for text in [
            "None",
            "update_complete",
            "stack does not exist",
            "UPDATE-COMPLETE",
        ] {
            match change_set_type("s", text) {
                Err(Refusal::NotAStatus(message)) => {
                    assert!(message.contains(&format!("{text:?}")), "{message}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_words_are_the_change_set_types() {
        assert_eq!(ChangeSetType::Create.word(), "CREATE");
        assert_eq!(ChangeSetType::Update.word(), "UPDATE");
    }
}
