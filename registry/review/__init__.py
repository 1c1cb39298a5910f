"""Trade-office review: queues and decisions on submitted and certified batches."""
