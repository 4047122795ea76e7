//! Construction makes no call; `caller_identity` is the first and only one.

use decom_provider::Provider;

use decom_testing::moto_test;

use crate::InAccount;

moto_test! {
    async fn caller_identity_is_the_only_call(moto: Moto) {
        let provider = moto.provider().await;
        assert!(
            provider.api_calls().is_empty(),
            "construction made calls: {:?}",
            provider.api_calls()
        );
        let identity = provider.caller_identity().await.expect("caller identity");
        assert_eq!(identity.account_id, moto.account);
        assert!(identity.arn.contains(&moto.account), "{}", identity.arn);
        let calls: Vec<(String, u64)> = provider.api_calls().into_iter().collect();
        assert_eq!(calls, vec![("sts:GetCallerIdentity".to_string(), 1)]);
    }
}

moto_test! {
    async fn settings_without_region_use_the_environment(moto: Moto) {
        let provider = decom_aws::AwsProvider::new(decom_aws::AwsSettings::default())
            .await
            .expect("region from AWS_REGION");
        assert_eq!(provider.regions(), std::slice::from_ref(&moto.region));
        assert!(provider.api_calls().is_empty());
        assert_eq!(provider.poll_interval(), std::time::Duration::from_millis(50));
    }
}
