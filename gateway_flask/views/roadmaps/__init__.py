"""/roadmaps: the learner's roadmap (generation, versions, progress, pictures)."""
