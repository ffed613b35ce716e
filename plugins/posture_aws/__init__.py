"""posture provider plugin: aws."""
