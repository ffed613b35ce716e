"""posture provider plugin: azure."""
