//! The fleet's Alertmanager: a configuration it refuses is a clear error.

use fleet::alertmanager::{Alertmanager, Config, Error};

#[tokio::test]
async fn a_configuration_alertmanager_refuses_is_reported_with_its_reason() {
    let config = Config::from_yaml(
        "route:\n  receiver: nobody\nreceivers:\n  - name: pager\n",
        "bad.yml",
    )
    .unwrap();
    let error = Alertmanager::start(config).await.unwrap_err();
    assert!(matches!(error, Error::Exited { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(r#"undefined receiver \"nobody\" used in route"#),
        "{error}"
    );
}
