from hypothesis import HealthCheck, settings

settings.register_profile(
    "llmkit-structured",
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("llmkit-structured")
