package geo

// What a reporter may learn of their report through its receipt: whether
// it is still waiting, published (verified into an incident) or not
// published (rejected). Nothing else about it is public.
const (
	ReceiptPending      = "pending"
	ReceiptPublished    = "published"
	ReceiptNotPublished = "not_published"
)

// ReceiptStatus is the public status of a report whose moderation status
// is status (pending, verified, rejected).
func ReceiptStatus(status string) string {
	switch status {
	case "verified":
		return ReceiptPublished
	case "rejected":
		return ReceiptNotPublished
	}
	return ReceiptPending
}
