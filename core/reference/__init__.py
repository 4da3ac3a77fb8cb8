"""Reference data: services citizens choose, the working calendar with China's adjusted days,
deadlines in working days or hours, and the words for the kernel's vocabularies.
May import storage and the foundation."""
