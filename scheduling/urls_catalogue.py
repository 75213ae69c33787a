"""Back-office pages of the catalogue: services, staff, resources, hours, group sessions."""

urlpatterns: list = []
