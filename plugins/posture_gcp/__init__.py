"""posture provider plugin: gcp."""
