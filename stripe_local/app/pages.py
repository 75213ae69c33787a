"""What the local HTML pages (onboarding, Express dashboard, 3-D Secure challenge) share."""

PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;"
    "color:#1a1f36}button{font-size:1rem;padding:.6rem 1.2rem;margin:.3rem;border-radius:6px;"
    "border:1px solid #635bff;cursor:pointer}.primary{background:#635bff;color:#fff}"
    ".note{color:#697386;font-size:.9rem}table{border-collapse:collapse;width:100%}"
    "td,th{border-bottom:1px solid #e3e8ee;padding:.3rem;text-align:left}"
)
