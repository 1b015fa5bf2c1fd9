//! Generated resource types (placeholder until cfn-codegen runs).
