"""Connect resources: the platform and connected accounts, account and login links (with the
local onboarding and Express dashboard pages), transfers and application fees."""
