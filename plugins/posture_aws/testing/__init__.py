"""Demo and test scaffolding for the AWS plugin: never imported by a scan.

- :mod:`posture_aws.testing.mock` -- a seeded moto server on 127.0.0.1 (``mock_account``);
- :mod:`posture_aws.testing.seed` -- the compliant and misconfigured resources it is seeded with;
- :mod:`posture_aws.testing.org` -- an Organization of hundreds of seeded members, seeded in process;
- :mod:`posture_aws.testing.fault_proxy` -- a loopback proxy adding latency, throttling and errors;
- :mod:`posture_aws.testing.missing_apis` -- the few read APIs moto lacks, answered in front of it.

These need moto, which only the ``demo`` extra installs (``pip install 'posture[demo]'``):
``pip install 'posture[aws]'`` gives a production scanner without it.
"""
