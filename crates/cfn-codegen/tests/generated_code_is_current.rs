//! CI's proof that crates/cfn/src/resources is what the committed schemas generate.

#[test]
fn generated_code_is_current() {
    let files =
        cfn_codegen::generate_from_committed_schemas().expect("the committed schemas generate");
    let changes = cfn_codegen::compare(&cfn_codegen::resources_dir(), &files)
        .expect("the resources directory is readable");
    let listed: Vec<String> = changes.iter().map(|c| format!("  {c}")).collect();
    assert!(
        changes.is_empty(),
        "crates/cfn/src/resources is not what cfn-codegen generates from the committed schemas; \
         run `make codegen` (or `cargo run -p cfn-codegen`) and commit the result:\n{}",
        listed.join("\n")
    );
}

#[test]
fn every_listed_type_has_a_schema_copy() {
    let listed = cfn_codegen::read_type_list(&cfn_codegen::types_file()).unwrap();
    for type_name in listed {
        let path = cfn_codegen::schemas_dir().join(cfn_codegen::schema_file_name(&type_name));
        assert!(
            path.exists(),
            "{type_name} is listed in resource-types.txt but {} is missing; run `make codegen`",
            path.display()
        );
    }
}
