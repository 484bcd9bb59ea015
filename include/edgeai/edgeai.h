/* edgeai: one include for the whole public API. */
#ifndef EDGEAI_H
#define EDGEAI_H

#include "edgeai/broker.h"
#include "edgeai/build.h"
#include "edgeai/dataset.h"
#include "edgeai/detect.h"
#include "edgeai/fl.h"
#include "edgeai/flmsg.h"
#include "edgeai/image.h"
#include "edgeai/kserve.h"
#include "edgeai/log.h"
#include "edgeai/model.h"
#include "edgeai/mot.h"
#include "edgeai/node.h"
#include "edgeai/npy.h"
#include "edgeai/pipeline.h"
#include "edgeai/router.h"
#include "edgeai/scene.h"
#include "edgeai/secagg.h"
#include "edgeai/serve.h"
#include "edgeai/session.h"
#include "edgeai/status.h"
#include "edgeai/tensor.h"
#include "edgeai/threadpool.h"
#include "edgeai/topo.h"
#include "edgeai/traci.h"
#include "edgeai/track.h"
#include "edgeai/trafcam.h"
#include "edgeai/traffic.h"
#include "edgeai/train.h"
#include "edgeai/transport.h"
#include "edgeai/video.h"
#include "edgeai/vision.h"

#define EAI_VERSION_STRING "0.1.0"

#endif
