package tmpdeps

import (
	_ "github.com/abema/go-mp4"
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/s3"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/klauspost/compress/gzhttp"
	_ "github.com/zeebo/blake3"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)
