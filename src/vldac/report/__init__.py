"""The report room: provenance manifests, training-curve figures, rollout viewer pages.

Torch-free: the workflow's report jobs run without the learner's heavy dependencies.
"""
